"""Unit tests of the pure Python that ships: template/tools/gitopslib and the Jinja extensions."""
