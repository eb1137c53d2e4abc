"""Notebook front end: IPython magics (``%load_ext netlab``) and, later, widgets."""
