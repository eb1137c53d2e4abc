"""The ``netlab`` console command."""
