"""Showing validation errors next to the fields of a form (shared by the dialogs)."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel, QLineEdit, QWidget

from db.errors import ValidationError


class FieldErrors:
    """Red messages under fields, keyed by the ``ValidationError.field`` label.

    The form provides ``error_labels`` (field → its red QLabel),
    ``_field_widgets`` (field → the input to focus) and ``general_error`` (a QLabel
    for messages about no particular field).
    """

    error_labels: dict[str, QLabel]
    _field_widgets: dict[str, QWidget]
    general_error: QLabel

    def _clear_error(self, field: str) -> None:
        label = self.error_labels.get(field)
        if label is not None:
            label.clear()
            label.hide()

    def _clear_errors(self) -> None:
        for field in self.error_labels:
            self._clear_error(field)
        self.general_error.clear()
        self.general_error.hide()

    def show_field_error(self, err: ValidationError) -> None:
        """Show a message next to the field it is about (or under the form)."""
        label = self.error_labels.get(err.field or "")
        if label is None:
            self.general_error.setText(str(err))
            self.general_error.show()
            return
        label.setText(str(err))
        label.show()
        widget = self._field_widgets[err.field or ""]
        widget.setFocus()
        if isinstance(widget, QLineEdit):
            widget.selectAll()
