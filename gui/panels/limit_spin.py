"""A spin box that says what its limit is instead of silently dropping typed digits."""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication
from PySide6.QtGui import QValidator
from PySide6.QtWidgets import QSpinBox, QWidget


class LimitSpinBox(QSpinBox):
    """A spin box that says what its limit is instead of silently dropping typed digits.

    Qt's spin box refuses a keystroke that takes the number past the maximum, so typing 99999999
    into a box limited to 999,999 leaves 999,999 without a word.  Here an out-of-range number stays
    in the editor while typing; when editing ends it is set to the nearest limit, and
    :meth:`take_limit_message` gives the sentence naming the field, the typed value and the range
    (shown under the field).
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._limit_message = ""
        self._field_name = ""
        self._lowest: int | None = None

    def set_field(self, name: str, lowest: int | None = None) -> None:
        """The field's name for the message, and its lowest number when the minimum stands for a word
        ("auto", shown with ``setSpecialValueText``)."""
        self._field_name, self._lowest = name, lowest

    def _typed(self, text: str) -> int | None:
        core = text
        if self.prefix() and core.startswith(self.prefix()):
            core = core[len(self.prefix()):]
        if self.suffix() and core.endswith(self.suffix()):
            core = core[: -len(self.suffix())]
        core = core.strip().replace(",", "").replace("\u00a0", "").replace(" ", "")
        if core.startswith("+"):
            core = core[1:]
        if not core or not core.lstrip("-").isdigit() or len(core) > 30:
            return None
        return int(core)

    def validate(self, text: str, pos: int) -> tuple[QValidator.State, str, int]:  # noqa: D102 - Qt's name
        value = self._typed(text)
        if value is not None and not self.minimum() <= value <= self.maximum():
            return QValidator.State.Intermediate, text, pos  # keep what was typed; fixup says the limit
        return super().validate(text, pos)

    def fixup(self, text: str) -> str:  # noqa: D102 - Qt's name
        value = self._typed(text)
        if value is not None and not self.minimum() <= value <= self.maximum():
            limit = self.maximum() if value > self.maximum() else self.minimum()
            low = self.minimum() if self._lowest is None else self._lowest
            self._limit_message = QCoreApplication.translate(
                "panels", "{field}: {typed} is out of range (allowed: {low} to {high}); set to {limit}.").format(
                field=self._field_name or QCoreApplication.translate("panels", "Value"), typed=f"{value:,}",
                low=f"{low:,}", high=f"{self.maximum():,}", limit=self.textFromValue(limit) + self.suffix())
            return self.prefix() + self.textFromValue(limit) + self.suffix()
        return super().fixup(text)

    def take_limit_message(self) -> str:
        """The message of the last out-of-range entry ("" when none), once."""
        message, self._limit_message = self._limit_message, ""
        return message
