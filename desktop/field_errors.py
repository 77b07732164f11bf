"""Showing validation errors next to the fields of a form (shared by the dialogs).

A field is laid out with a hidden red label under it (:meth:`FieldErrors._with_error_label`);
:meth:`FieldErrors.show_field_error` puts a :class:`ValidationError` there.
:func:`error_label` is that red label on its own (a form's general message),
:func:`ok_cancel_buttons` the 确定/取消 row of a form dialog.
"""

from __future__ import annotations

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from db.errors import ValidationError

ERROR_STYLE = "color: #c62828;"


def error_label(text: str = "", *, word_wrap: bool = True) -> QLabel:
    """A red label for an error message, hidden until there is one to show."""
    label = QLabel(text)
    label.setStyleSheet(ERROR_STYLE)
    label.setWordWrap(word_wrap)
    label.hide()
    return label


def ok_cancel_buttons(
    dialog: QDialog,
    ok: QDialogButtonBox.StandardButton = QDialogButtonBox.StandardButton.Ok,
    ok_text: str = "确定",
) -> QDialogButtonBox:
    """The dialog's ``ok``/取消 buttons: ``ok`` is the default (Enter) and accepts, Esc rejects."""
    buttons = QDialogButtonBox(ok | QDialogButtonBox.StandardButton.Cancel)
    ok_button = buttons.button(ok)
    ok_button.setText(ok_text)
    ok_button.setDefault(True)
    buttons.button(QDialogButtonBox.StandardButton.Cancel).setText("取消")
    buttons.accepted.connect(dialog.accept)
    buttons.rejected.connect(dialog.reject)
    return buttons


class FieldErrors:
    """Red messages under fields, keyed by the ``ValidationError.field`` label.

    The form provides ``error_labels`` (field → its red QLabel),
    ``_field_widgets`` (field → the input to focus) and ``general_error`` (a QLabel
    for messages about no particular field); :meth:`_with_error_label` fills the
    first two.
    """

    error_labels: dict[str, QLabel]
    _field_widgets: dict[str, QWidget]
    general_error: QLabel
    error_word_wrap = True  # whether a long message under a field wraps
    clear_errors_on_edit = True  # typing into a field clears its message

    def _with_error_label(self, field: str, widget: QWidget,
                          focus: QWidget | None = None) -> QWidget:
        """``widget`` with the (hidden) red message of ``field`` under it.

        Args:
            field: the field's name, as ``ValidationError.field`` gives it.
            widget: the input (or a row of inputs).
            focus: what gets the focus on an error, if not ``widget``.

        With :attr:`clear_errors_on_edit`, typing into the field (a line edit
        or an editable combo box) clears its message.
        """
        box = QWidget()
        vbox = QVBoxLayout(box)
        vbox.setContentsMargins(0, 0, 0, 0)
        vbox.setSpacing(2)
        vbox.addWidget(widget)
        error = error_label(word_wrap=self.error_word_wrap)
        vbox.addWidget(error)
        self.error_labels[field] = error
        self._field_widgets[field] = focus or widget
        edit = widget.lineEdit() if isinstance(widget, QComboBox) else widget
        if self.clear_errors_on_edit and isinstance(edit, QLineEdit):
            edit.textEdited.connect(lambda _text, f=field: self._clear_error(f))
        return box

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
