"""Front-end views: what Docker prints (tables, inspect JSON) and notebook displays."""
