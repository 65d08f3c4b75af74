"""The course modules, generated from src/ by `tito export`."""
