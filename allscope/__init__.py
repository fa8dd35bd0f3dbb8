"""allscope: live B-ALL screening at the microscope (a screening aid, not a diagnosis)."""

import sys

# OpenVINO's usage telemetry starts a network thread at import; a clinical workstation sends
# nothing, and that thread has been seen to race PySide6's start-up. OpenVINO falls back to
# its built-in no-op when the package cannot be imported.
sys.modules.setdefault("openvino_telemetry", None)  # type: ignore[arg-type]  # None blocks an import

__version__ = "0.1.0"

# The one disclaimer: the About box, every report, export and command's help carry it.
DISCLAIMER = "Screening aid, not a diagnosis."
CONFIRMATION = (
    "Any suspicious field must be confirmed by flow cytometry and bone marrow examination."
)
NOTICE = f"{DISCLAIMER} {CONFIRMATION}"  # where there is room for both: reports and exports
