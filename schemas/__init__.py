"""The one unified graph (strawberry types); see schema.py for the assembled schema."""
