"""Per-kind spec rules, one module per family of kinds; objects.py picks them by (API group, kind)."""
