"""Importing clerks' workbooks: sign-in sheets / rosters (签到表 / 花名册) and old activity ledgers.

The pipeline, each step usable on its own by the GUI's import wizard::

    sheets = read_workbook(path)                              # calamine: .xlsx .xls .ods
    index, guess = best_sheet(sheets, TRAINEE_FIELDS)         # or detect_header(sheet, fields)
    # the user may pick another sheet, another header row (remap) or change guess.mapping
    with db.session() as s:
        plan = plan_trainee_import(s, office, sheet, mapping, header_index=row,
                                   training_id=None, progress=..., is_cancelled=...)
    # preview: plan.rows (RowResult: excel_row, status, values, errors, warnings, note)
    result = apply_trainee_import(db, office, plan, skip_invalid=False,
                                  progress=..., is_cancelled=...)
    write_error_workbook(plan, sheet, error_workbook_path(path))   # the invalid rows + 错误说明

Nothing is written until ``apply_*``; that writes in one transaction or not at all.
``db/`` never imports Qt; progress is a ``progress(percent, message)`` callable and
cancellation an ``is_cancelled()`` callable, both called from the worker thread.
"""

from db.imports.activities import activity_of, apply_activity_import, plan_activity_import
from db.imports.common import (
    BLANK,
    DUPLICATE,
    EXISTING,
    INVALID,
    NEW,
    NOTE,
    STATUS_LABELS,
    TOTAL,
    ImportCancelledError,
    ImportPlan,
    ImportRefusedError,
    ImportResult,
    RowIssue,
    RowResult,
    report_dict,
)
from db.imports.error_book import error_workbook_path, write_error_workbook
from db.imports.mapping import (
    ACTIVITY_FIELDS,
    TRAINEE_FIELDS,
    FieldSpec,
    HeaderGuess,
    best_sheet,
    check_mapping,
    detect_header,
    header_columns,
    normalize_header,
    remap,
)
from db.imports.reader import SheetData, display_text, read_workbook
from db.imports.templates import catalog_names, write_activity_template, write_trainee_template
from db.imports.trainees import apply_trainee_import, plan_trainee_import

__all__ = [
    "ACTIVITY_FIELDS", "BLANK", "DUPLICATE", "EXISTING", "INVALID", "NEW", "NOTE",
    "STATUS_LABELS", "TOTAL", "TRAINEE_FIELDS", "FieldSpec", "HeaderGuess", "ImportCancelledError",
    "ImportPlan", "ImportRefusedError", "ImportResult", "RowIssue", "RowResult", "SheetData",
    "activity_of", "apply_activity_import", "apply_trainee_import", "best_sheet",
    "catalog_names", "check_mapping", "detect_header", "display_text", "error_workbook_path",
    "header_columns", "normalize_header", "plan_activity_import", "plan_trainee_import",
    "read_workbook", "remap", "report_dict", "write_activity_template", "write_error_workbook",
    "write_trainee_template",
]
