"""A non-modal banner across the top of the window: what happened, and what to do.

Errors never open a modal dialog during live work: the banner appears above the live view,
the work goes on, and the user closes it when read. Messages carry a key so that a newer
message about the same thing (the camera reconnecting, say) replaces the older one. A
message may offer one action (a button such as "Resume"); pressing it runs the action and
removes the message.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from html import escape

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QToolButton

LEVEL_COLOURS = {
    "info": ("#e8f1fb", "#1f4e79"),
    "warning": ("#fff4d6", "#7a5200"),
    "error": ("#fde2e1", "#8a1c13"),
}
MAX_MESSAGES = 4


@dataclass(frozen=True)
class BannerMessage:
    what: str
    todo: str
    level: str = "error"
    action: str = ""  # button text, empty for none


class ErrorBanner(QFrame):
    """Shows up to ``MAX_MESSAGES`` messages, newest first; hidden when there are none."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("ErrorBanner")
        self._messages: OrderedDict[str, BannerMessage] = OrderedDict()
        self._actions: dict[str, Callable[[], object]] = {}
        self.buttons: dict[str, QPushButton] = {}  # message key -> its action button
        self._label = QLabel(self)
        self._label.setWordWrap(True)
        self._label.setTextFormat(Qt.TextFormat.RichText)
        self._close = QToolButton(self)
        self._close.setText("✕")
        self._close.setToolTip("Dismiss these messages")
        self._close.clicked.connect(self.clear)
        self._layout = QHBoxLayout(self)
        self._layout.setContentsMargins(8, 4, 4, 4)
        self._layout.addWidget(self._label, 1)
        self._layout.addWidget(self._close, 0, Qt.AlignmentFlag.AlignTop)
        self.hide()

    def show_message(self, what: str, todo: str = "", level: str = "error", key: str | None = None,
                     action: tuple[str, Callable[[], object]] | None = None) -> None:
        """Show a message; one with the same ``key`` replaces the earlier one.

        ``action`` is (button text, callback): the button runs it and removes the message."""
        key = key or what
        self._messages.pop(key, None)
        self._actions.pop(key, None)
        if key in self.buttons:  # a replaced message may offer another action
            self.buttons.pop(key).deleteLater()
        self._messages[key] = BannerMessage(
            what, todo, level if level in LEVEL_COLOURS else "error", action[0] if action else ""
        )
        if action:
            self._actions[key] = action[1]
        while len(self._messages) > MAX_MESSAGES:
            self._actions.pop(self._messages.popitem(last=False)[0], None)
        self._render()

    def dismiss(self, key: str) -> None:
        """Remove one message (e.g. the camera is connected again)."""
        self._actions.pop(key, None)
        if self._messages.pop(key, None) is not None:
            self._render()

    def clear(self) -> None:
        self._messages.clear()
        self._actions.clear()
        self._render()

    def messages(self) -> list[BannerMessage]:
        """Current messages, newest first."""
        return list(reversed(self._messages.values()))

    def text(self) -> str:
        return self._label.text()

    def _run_action(self, key: str) -> None:
        action = self._actions.get(key)
        self.dismiss(key)
        if action is not None:
            action()

    def _sync_buttons(self) -> None:
        for key in [k for k in self.buttons if k not in self._actions]:
            self.buttons.pop(key).deleteLater()
        for key in self._actions:
            if key not in self.buttons:
                button = QPushButton(self._messages[key].action, self)
                button.clicked.connect(lambda _=False, k=key: self._run_action(k))
                self._layout.insertWidget(1, button, 0, Qt.AlignmentFlag.AlignTop)
                self.buttons[key] = button

    def _render(self) -> None:
        self._sync_buttons()
        messages = self.messages()
        if not messages:
            self.hide()
            return
        worst = max(messages, key=lambda m: list(LEVEL_COLOURS).index(m.level)).level
        background, foreground = LEVEL_COLOURS[worst]
        self.setStyleSheet(
            f"#ErrorBanner {{ background: {background}; border: 1px solid {foreground}; }}"
            f"#ErrorBanner QLabel {{ color: {foreground}; }}"
        )
        lines = [
            f"<b>{escape(m.what)}</b>" + (f" {escape(m.todo)}" if m.todo else "") for m in messages
        ]
        self._label.setText("<br>".join(lines))
        self.show()
