"""Runs one Animus agent phase: tool and model resolution, runtime contract, prompt
rendering, the session through the session host, the run event log, the session file for
resume, decision extraction with contract checks, token usage and cost.
"""

from __future__ import annotations

from importlib.metadata import version as _version

from animus_agent_runner._contract import (
    MISSING_DECISION,
    as_decision_contract,
    contract_violations,
    decide,
)
from animus_agent_runner._cost import (
    FALLBACK_RATES_USD_PER_MILLION,
    TokenUsage,
    estimate_cost_usd,
    reported_cost_usd,
    usage_from_metadata,
)
from animus_agent_runner._events import RunEventCallback, RunEventWriter, event_type_and_payload
from animus_agent_runner._models import AgentPhaseRequest, AgentPhaseResult, PhaseStatus
from animus_agent_runner._prompt import (
    DEFAULT_PRIOR_OUTPUT_CHARS,
    DEFAULT_PRIOR_PHASES,
    PriorPhaseOutput,
    PromptContext,
    ReworkFeedback,
    Skill,
    SubjectInfo,
    decision_instruction,
    render_prompt,
)
from animus_agent_runner._runner import AgentPhaseRunner, run_agent_phase
from animus_agent_runner._runtime_contract import CLI_CAPABILITIES, build_runtime_contract
from animus_agent_runner._selection import DEFAULT_TOOL, ToolSelection, resolve_tool_and_model
from animus_agent_runner._session_file import (
    PhaseSessionRecord,
    read_session_file,
    session_file_path,
)
from animus_agent_runner.decision import (
    decision_from_payload,
    extract_decision_payload,
    parse_phase_decision,
)

__version__ = _version("animus-agent-runner")

__all__ = [
    "CLI_CAPABILITIES",
    "DEFAULT_PRIOR_OUTPUT_CHARS",
    "DEFAULT_PRIOR_PHASES",
    "DEFAULT_TOOL",
    "FALLBACK_RATES_USD_PER_MILLION",
    "MISSING_DECISION",
    "AgentPhaseRequest",
    "AgentPhaseResult",
    "AgentPhaseRunner",
    "PhaseSessionRecord",
    "PhaseStatus",
    "PriorPhaseOutput",
    "PromptContext",
    "ReworkFeedback",
    "RunEventCallback",
    "RunEventWriter",
    "Skill",
    "SubjectInfo",
    "TokenUsage",
    "ToolSelection",
    "__version__",
    "as_decision_contract",
    "build_runtime_contract",
    "contract_violations",
    "decide",
    "decision_from_payload",
    "decision_instruction",
    "estimate_cost_usd",
    "event_type_and_payload",
    "extract_decision_payload",
    "parse_phase_decision",
    "read_session_file",
    "render_prompt",
    "reported_cost_usd",
    "resolve_tool_and_model",
    "run_agent_phase",
    "session_file_path",
    "usage_from_metadata",
]
