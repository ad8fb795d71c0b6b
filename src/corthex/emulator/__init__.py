"""A stateful local emulator of the OpenAI, Anthropic and Gemini Batch APIs (DESIGN.md §6).

One FastAPI app serves all three under `/openai/v1`, `/anthropic` and `/gemini`; the official
SDKs work against it unchanged. See `app.py` for the URL layout and `faults.py` for faults.
"""

from corthex.emulator.app import create_app
from corthex.emulator.config import EmulatorConfig
from corthex.emulator.faults import Fault
from corthex.emulator.server import EmulatorServer
from corthex.emulator.state import EmulatorState

__all__ = ["EmulatorConfig", "EmulatorServer", "EmulatorState", "Fault", "create_app"]
