"""allscope: live B-ALL screening at the microscope (a screening aid, not a diagnosis)."""

__version__ = "0.1.0"

DISCLAIMER = "Screening aid, not a diagnosis."
