"""Imports every table module so that SQLModel.metadata knows the whole schema."""

from models import tables  # noqa: F401
