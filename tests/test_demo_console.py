"""What the terminal prints for a finished tool call: its own run time, and apart from it the approval wait."""

from io import StringIO

from shopdesk_demo.console import Terminal


def finished(name: str, seconds: float | None, ok: bool, detail: str, approval_wait: float | None = None) -> str:
    err = StringIO()
    Terminal(out=StringIO(), err=err, interactive=False).tool_finished(name, seconds, ok, detail, approval_wait)
    return err.getvalue()


def test_run_time_and_approval_wait_are_shown_apart() -> None:
    line = finished("cancel_pending_order", 0.009, True, "Order #W1 cancelled", approval_wait=3.2)
    assert line == "  <- cancel_pending_order ok in 9 ms; 3.2 s waiting for approval\n"


def test_a_tool_that_was_not_run_shows_no_run_time() -> None:
    line = finished("cancel_pending_order", None, False, "The person did not approve it.", approval_wait=12.0)
    assert line == "  <- cancel_pending_order not run; 12.0 s waiting for approval: The person did not approve it.\n"


def test_a_tool_no_one_was_asked_about_shows_only_its_run_time() -> None:
    assert finished("get_order_details", 0.004, True, "Order #W1: delivered") == "  <- get_order_details ok in 4 ms\n"
