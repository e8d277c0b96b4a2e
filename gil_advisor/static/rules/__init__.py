"""One module per rule; ALL_RULES is the order they run in."""
from gil_advisor.static.rules.busy_wait import BusyWaitInThread
from gil_advisor.static.rules.cpu_in_threads import CpuBoundPythonInThreads
from gil_advisor.static.rules.holding_calls import GilHoldingCallsInThreads
from gil_advisor.static.rules.offload import CpuWorkOffloadedFromEventLoop

ALL_RULES = (
    CpuBoundPythonInThreads(),
    GilHoldingCallsInThreads(),
    BusyWaitInThread(),
    CpuWorkOffloadedFromEventLoop(),
)
