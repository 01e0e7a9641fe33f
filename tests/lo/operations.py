"""The step operations, through UNO: open, read, type like a user, save... (driver side only: needs ``uno``).

:class:`Office` connects to the soffice that process.py started, checks the
profile's settings (profiles.py), runs the steps of the JSON protocol
(protocol.py) one by one and, at the end, closes everything and has soffice stopped.

Typing (what a user would do) -- findings with LibreOffice 7.4 headless
    * via="dispatch" (default, works on hidden documents): ``.uno:GoToCell``
      (ToPoint=F12) then ``.uno:EnterString`` (StringName=text).  This is the
      same code path as a user's Enter (ScViewFunc::EnterData), so sheet
      protection is enforced by LibreOffice, BUT it bypasses data validation:
      an invalid value is stored silently.  The result therefore carries
      ``"valid"`` (True/False, None when the cell has no validation), computed
      with the Detective ("Mark Invalid Data", XSheetAuditing.showInvalid).
    * via="keyboard": real key events (letters then RETURN) sent to the Calc
      grid window through LibreOffice's UITest service.  This goes through the
      input handler, so data validation IS applied: with --headless every
      dialog is auto-cancelled, so an invalid entry is *rejected* (for STOP,
      and also for WARNING/INFORMATION alerts where a user could accept it).
      Key events are ignored by hidden windows, so the document must be opened
      with ``"hidden": false`` (nothing is displayed anyway in headless mode).
    * Locked cell on a protected sheet: LibreOffice refuses the input and opens
      an *asynchronous* "Protected cells can not be modified." message box.  It
      never blocks (headless), but it cannot be dismissed reliably through
      UITest, and a second one crashes soffice 7.4 (seen with visible
      documents, and after dismissing the first one).  So by default the driver
      performs LibreOffice's own check first (sheet.isProtected() and
      CellProtection.IsLocked -- what ScEditableTester tests) and does not send
      the input: the result has ``"refused": "protected"``.  ``"force": true``
      sends it anyway (investigation only; ``"dialog"`` reports the message --
      the box stays open, so later results report it again).
    * Calc AutoInput (autocomplete from the column) is switched off in the
      profile, otherwise keyboard typing "X" could become "Xylophone".
    * Typing into a cell triggers the automatic recalculation of dependent
      formulas (AutoCalculate is on); use ``{"op": "autocalc", "enabled": false}``
      to keep cached values while typing.


Steps
    "sheet" is a name, an index, or omitted (active sheet).
    {"op": "open", "path": ..., "hidden": true, "read_only": false}
                                                      load .xlsx/.ods/.docx/...; becomes the current doc
                                                      -> {"kind": "calc"|"writer"|"other", "load_s"}
    {"op": "read", "sheet": ..., "cells": ["A1", ...]} -> {"cells": {"A1": {type, value, string, formula,
                                                         formula_result_type, error, locked}}}
                                                         (pure UNO reads, never recalculates)
    {"op": "type", "sheet": ..., "cell": "F12", "text": "X", "via": "dispatch"|"keyboard", "force": false}
                                                      types like a user -> {"cell", "matches", "changed",
                                                      "refused", "valid", "dialog", "before", "after"}
                                                      (see "Typing" above)
    {"op": "type_many", "sheet": ..., "entries": [["F12", "X"], ...], "via": ...}
                                                      -> {"entries": [<type result>, ...]}
    {"op": "clear", "sheet": ..., "cell": ...}        .uno:GoToCell + .uno:ClearContents -> {"cleared", "refused", ...}
    {"op": "invalid_cells", "sheet": ...}             cells violating their data validation (Detective
                                                      "Mark Invalid Data") -> {"invalid": ["D4", ...]}
    {"op": "autocalc", "enabled": bool}               doc.enableAutomaticCalculation()
    {"op": "recalc"}                                  doc.calculateAll()
    {"op": "save", "path": ..., "filter": "Calc MS Excel 2007 XML" | "calc8" | "MS Word 2007 XML" | ...}
                                                      (filter guessed from the extension when omitted)
    {"op": "pdf", "path": ...}                        calc_pdf_Export / writer_pdf_Export
    {"op": "page_count"}                              Writer: layout page count; Calc: printed page count
    {"op": "sheet_protected", "sheet": ...}           -> {"protected": bool}
    {"op": "sheets"}                                  -> {"sheets": [names]}
    {"op": "close"}                                   close the current document
"""

import contextlib
import json
import os
import time

import uno  # Debian python3-uno: only importable in /usr/bin/python3
from com.sun.star.beans import PropertyValue
from com.sun.star.connection import NoConnectException
from process import Soffice, uno_url
from profiles import profile_settings

CONNECT_TIMEOUT = 60.0

CALC_FILTERS = {
    ".xlsx": "Calc MS Excel 2007 XML",
    ".xlsm": "Calc MS Excel 2007 VBA XML",
    ".xls": "MS Excel 97",
    ".ods": "calc8",
    ".csv": "Text - txt - csv (StarCalc)",
    ".pdf": "calc_pdf_Export",
}
WRITER_FILTERS = {
    ".docx": "MS Word 2007 XML",
    ".doc": "MS Word 97",
    ".odt": "writer8",
    ".rtf": "Rich Text Format",
    ".txt": "Text",
    ".pdf": "writer_pdf_Export",
}
RESULT_TYPES = {1: "VALUE", 2: "STRING", 4: "ERROR"}


def props(**kwargs):
    out = []
    for k, v in kwargs.items():
        p = PropertyValue()
        p.Name = k
        p.Value = v
        out.append(p)
    return tuple(out)


def to_url(path):
    return uno.systemPathToFileUrl(os.path.abspath(path))


def uno_message(exc):
    return getattr(exc, "Message", None) or str(exc)


class StepError(Exception):
    """A step that cannot be executed (bad argument, missing sheet, ...)."""


class Office:
    """The UNO connection to one soffice, and the open documents."""

    def __init__(self, soffice: Soffice, locale=None):
        self.soffice = soffice
        self.locale = locale
        self.ctx = None
        self.smgr = None
        self.desktop = None
        self.dispatcher = None
        self._uitest = None
        self.docs = []  # [(doc, hidden)]
        self.doc = None
        self.timings = {}

    # -- connection ----------------------------------------------------------
    def connect(self):
        """Connect through the UNO URP bridge, retrying until CONNECT_TIMEOUT seconds have elapsed."""
        t0 = time.monotonic()
        local = uno.getComponentContext()
        resolver = local.ServiceManager.createInstanceWithContext("com.sun.star.bridge.UnoUrlResolver", local)
        last = None
        while True:
            rc = self.soffice.exit_code()
            if rc is not None:
                # rc 0 this early: another soffice already uses this profile and the
                # request was handed over to it -- we must not drive a foreign instance.
                raise RuntimeError(
                    f"soffice exited before accepting connections (code {rc}); "
                    f"is the profile {self.soffice.profile} used by another soffice?"
                )
            try:
                self.ctx = resolver.resolve(uno_url(self.soffice.port))
                break
            except NoConnectException as e:
                last = e
            if time.monotonic() - t0 > CONNECT_TIMEOUT:
                raise RuntimeError(
                    f"could not connect to soffice on port {self.soffice.port} within {CONNECT_TIMEOUT}s: "
                    f"{uno_message(last)}"
                )
            time.sleep(0.1)
        self.smgr = self.ctx.ServiceManager
        self.desktop = self.smgr.createInstanceWithContext("com.sun.star.frame.Desktop", self.ctx)
        self.dispatcher = self.smgr.createInstanceWithContext("com.sun.star.frame.DispatchHelper", self.ctx)
        self.timings["connect_s"] = round(time.monotonic() - t0, 3)

    def configure(self):
        """Check/re-apply the seeded settings through the configuration API."""
        cp = self.smgr.createInstanceWithContext("com.sun.star.configuration.ConfigurationProvider", self.ctx)
        for node, name, _xstype, value in profile_settings(self.locale):
            access = cp.createInstanceWithArguments(
                "com.sun.star.configuration.ConfigurationUpdateAccess", props(nodepath=node)
            )
            if access.getPropertyValue(name) != value:
                access.setPropertyValue(name, value)
                access.commitChanges()
        # Without Setup/Product/ooSetupLastVersion every start takes the slow
        # "first start of this version" path (~1 s instead of ~0.2 s): record it,
        # LibreOffice writes it to the profile when it terminates.
        product = cp.createInstanceWithArguments(
            "com.sun.star.configuration.ConfigurationUpdateAccess",
            props(nodepath="/org.openoffice.Setup/Product"),
        )
        version = product.getPropertyValue("ooSetupVersion")
        if version and product.getPropertyValue("ooSetupLastVersion") != version:
            product.setPropertyValue("ooSetupLastVersion", version)
            product.commitChanges()

    def close(self):
        """Close the documents and terminate the desktop; soffice then exits by itself (~1.5 s)."""
        for doc, _hidden in self.docs:
            with contextlib.suppress(Exception):
                doc.close(True)
        self.docs = []
        self.doc = None
        if self.desktop is not None:
            with contextlib.suppress(Exception):  # the bridge is disposed when soffice exits: expected
                self.desktop.terminate()
        self.desktop = None

    # -- helpers ---------------------------------------------------------------
    def current(self):
        if self.doc is None:
            raise StepError("no current document (use an 'open' step first)")
        return self.doc

    def hidden(self):
        doc = self.current()
        return next(h for d, h in self.docs if d is doc)

    def is_calc(self, doc=None):
        return (doc or self.current()).supportsService("com.sun.star.sheet.SpreadsheetDocument")

    def is_writer(self, doc=None):
        return (doc or self.current()).supportsService("com.sun.star.text.TextDocument")

    def sheet(self, name):
        doc = self.current()
        if not self.is_calc(doc):
            raise StepError("current document is not a spreadsheet")
        sheets = doc.Sheets
        if name is None:
            return doc.getCurrentController().getActiveSheet()
        if isinstance(name, int):
            return sheets.getByIndex(name)
        if not sheets.hasByName(name):
            raise StepError(f"no sheet {name!r} (sheets: {list(sheets.ElementNames)})")
        return sheets.getByName(name)

    @property
    def uitest(self):
        if self._uitest is None:
            self._uitest = self.smgr.createInstanceWithContext("org.libreoffice.uitest.UITest", self.ctx)
        return self._uitest

    def dispatch(self, command, **args):
        frame = self.current().getCurrentController().getFrame()
        return self.dispatcher.executeDispatch(frame, command, "", 0, props(**args))

    @staticmethod
    def address(cell):
        a = cell.getCellAddress()
        return (a.Sheet, a.Column, a.Row)

    def goto(self, sheet, addr):
        """Activate the sheet and move the cell cursor like Ctrl+Shift+F5 / Name Box."""
        ctrl = self.current().getCurrentController()
        ctrl.setActiveSheet(sheet)
        self.dispatch(".uno:GoToCell", ToPoint=addr)
        want = self.address(sheet.getCellRangeByName(addr))
        sel = ctrl.getSelection()
        try:
            got = self.address(sel)
        except AttributeError:  # a range is selected
            r = sel.getRangeAddress()
            got = (r.Sheet, r.StartColumn, r.StartRow)
        if got != want:
            raise StepError(f"GoToCell {addr} failed (cursor at {got})")

    def dialog(self):
        """Message of the dialog LibreOffice currently shows (None if none)."""
        try:
            top = self.uitest.getTopFocusWindow()
            if top.getType() != "DialogUIObject":
                return None
            tree = json.loads(top.getHierarchy())
        except Exception:
            return None
        texts = []

        def walk(node):
            if node.get("ImplementationName", "").endswith("MultiLineEdit") and node.get("Text"):
                texts.append(node["Text"])
            for child in node.get("children", ()):
                walk(child)

        walk(tree)
        return {"title": tree.get("Text"), "text": "\n".join(texts)}

    @staticmethod
    def cell_info(cell):
        t = cell.getType().value  # EMPTY / VALUE / TEXT / FORMULA
        info = {
            "type": t,
            "value": None,
            "string": cell.getString(),
            "formula": cell.getFormula(),
            "formula_result_type": None,
            "error": cell.getError(),
        }
        if t == "VALUE":
            info["value"] = cell.getValue()
        elif t == "FORMULA":
            rt = cell.getPropertyValue("FormulaResultType2")
            info["formula_result_type"] = RESULT_TYPES.get(rt, rt)
            if rt == 1:
                info["value"] = cell.getValue()
        try:
            info["locked"] = bool(cell.getPropertyValue("CellProtection").IsLocked)
        except Exception:
            info["locked"] = None
        return info

    @staticmethod
    def protected_cell(sheet, cell):
        """LibreOffice's own rule (ScEditableTester): protected sheet + locked cell."""
        return bool(sheet.isProtected()) and bool(cell.getPropertyValue("CellProtection").IsLocked)

    def validity(self, sheet, cell):
        """True/False per the cell's data validation, None if it has none."""
        if cell.getPropertyValue("Validation").Type.value == "ANY":
            return None
        return self.address(cell) not in self._invalid(sheet)

    def _invalid(self, sheet):
        sheet.clearArrows()
        dp = sheet.getDrawPage()
        n0 = dp.getCount()
        out = []
        if sheet.showInvalid():
            for i in range(n0, dp.getCount()):
                anchor = getattr(dp.getByIndex(i), "Anchor", None)
                if anchor is not None and hasattr(anchor, "getCellAddress"):
                    out.append(self.address(anchor))
        sheet.clearArrows()
        return out

    def grid_window(self):
        """The Calc grid window of the current document, for key events."""
        if self.hidden():
            raise StepError(
                'via="keyboard" needs a visible document: open it with "hidden": false '
                "(hidden windows ignore key events; nothing is displayed in headless mode)"
            )
        if sum(1 for _d, h in self.docs if not h) > 1:
            # UITest only gives access to the most recent top window
            raise StepError('via="keyboard" needs a single visible document; close the others')
        top = self.uitest.getTopFocusWindow()
        if top.getType() == "DialogUIObject":
            raise StepError(f"a dialog is open: {self.dialog()}")
        return top.getChild("grid_window")

    def check_grid(self, grid, sheet, addr):
        """Make sure the key events go to the right cell of the right document."""
        state = {p.Name: p.Value for p in grid.getState()}
        s, col, row = self.address(sheet.getCellRangeByName(addr))
        got = (state.get("SelectedTable"), state.get("CurrentColumn"), state.get("CurrentRow"))
        if got != (str(s), str(col), str(row)):
            raise StepError(f"grid window cursor at {got}, expected {(s, col, row)}")

    # -- steps -------------------------------------------------------------------
    def op_open(self, path, hidden=True, read_only=False):
        if not os.path.exists(path):
            raise StepError(f"file not found: {path}")
        args = dict(
            Hidden=bool(hidden),
            ReadOnly=bool(read_only),
            MacroExecutionMode=0,  # NEVER_EXECUTE
            UpdateDocMode=0,  # NO_UPDATE (links)
        )
        t0 = time.monotonic()
        doc = self.desktop.loadComponentFromURL(to_url(path), "_blank", 0, props(**args))
        if doc is None:
            raise StepError(f"LibreOffice could not load {path}")
        if not any(d is doc for d, _h in self.docs):  # an already open URL is reused
            self.docs.append((doc, bool(hidden)))
        self.doc = doc
        kind = "calc" if self.is_calc(doc) else "writer" if self.is_writer(doc) else "other"
        return {"kind": kind, "load_s": round(time.monotonic() - t0, 3)}

    def op_sheets(self):
        return {"sheets": list(self.current().Sheets.ElementNames)}

    def op_read(self, cells, sheet=None):
        sh = self.sheet(sheet)
        return {"cells": {a: self.cell_info(sh.getCellRangeByName(a)) for a in cells}}

    def _type(self, sh, addr, text, via="dispatch", force=False):
        text = str(text)
        cell = sh.getCellRangeByName(addr)
        before = self.cell_info(cell)
        refused = None
        dialog = None
        if self.protected_cell(sh, cell) and not force:
            refused = "protected"
        elif via == "dispatch":
            self.goto(sh, addr)
            self.dispatch(".uno:EnterString", StringName=text)
        elif via == "keyboard":
            grid = self.grid_window()
            self.goto(sh, addr)
            self.check_grid(grid, sh, addr)
            if text:
                grid.executeAction("TYPE", props(TEXT=text))
                grid.executeAction("TYPE", props(KEYCODE="RETURN"))
            else:
                grid.executeAction("TYPE", props(KEYCODE="DELETE"))
        else:
            raise StepError(f"via must be 'dispatch' or 'keyboard', not {via!r}")
        if refused is None:
            dialog = self.dialog()
        after = self.cell_info(cell)
        changed = (after["type"], after["formula"], after["string"]) != (
            before["type"],
            before["formula"],
            before["string"],
        )
        if refused is None and not changed and after["string"] != text:
            refused = "protected" if self.protected_cell(sh, cell) else "rejected"
        return {
            "cell": addr,
            "matches": after["string"] == text,
            "changed": changed,
            "refused": refused,
            "valid": self.validity(sh, cell),
            "dialog": dialog,
            "before": before,
            "after": after,
        }

    def op_type(self, cell, text, sheet=None, via="dispatch", force=False):
        return self._type(self.sheet(sheet), cell, text, via, force)

    def op_type_many(self, entries, sheet=None, via="dispatch", force=False):
        sh = self.sheet(sheet)
        return {"entries": [self._type(sh, a, t, via, force) for a, t in entries]}

    def op_clear(self, cell, sheet=None, force=False):
        sh = self.sheet(sheet)
        c = sh.getCellRangeByName(cell)
        before = self.cell_info(c)
        refused = None
        if self.protected_cell(sh, c) and not force:
            refused = "protected"
        else:
            self.goto(sh, cell)
            self.dispatch(".uno:ClearContents")
        after = self.cell_info(c)
        return {
            "cell": cell,
            "cleared": after["type"] == "EMPTY",
            "refused": refused,
            "before": before,
            "after": after,
        }

    def op_invalid_cells(self, sheet=None):
        sh = self.sheet(sheet)
        names = []
        for _s, col, row in self._invalid(sh):
            names.append(sh.getCellByPosition(col, row).AbsoluteName.split(".")[-1].replace("$", ""))
        return {"invalid": names}

    def op_autocalc(self, enabled=True):
        self.current().enableAutomaticCalculation(bool(enabled))
        return {}

    def op_recalc(self):
        doc = self.current()
        if self.is_calc(doc):
            doc.calculateAll()
        else:
            doc.refresh()
        return {}

    def filter_for(self, path, pdf=False):
        ext = ".pdf" if pdf else os.path.splitext(path)[1].lower()
        table = CALC_FILTERS if self.is_calc() else WRITER_FILTERS
        if ext not in table:
            raise StepError(f"no default filter for {ext!r}; pass 'filter'")
        return table[ext]

    def op_save(self, path, filter=None):
        doc = self.current()
        flt = filter or self.filter_for(path)
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        doc.storeToURL(to_url(path), props(FilterName=flt, Overwrite=True))
        return {"path": os.path.abspath(path), "filter": flt, "size": os.path.getsize(path)}

    def op_pdf(self, path):
        return self.op_save(path, self.filter_for(path, pdf=True))

    def op_page_count(self):
        doc = self.current()
        if self.is_writer(doc):
            vc = doc.getCurrentController().getViewCursor()
            vc.jumpToLastPage()  # forces the layout
            return {"pages": vc.getPage()}
        # spreadsheets: number of pages a print/PDF export would produce
        return {"pages": doc.getRendererCount(doc, props(IsPrinter=True))}

    def op_sheet_protected(self, sheet=None):
        return {"protected": bool(self.sheet(sheet).isProtected())}

    def op_close(self):
        doc = self.current()
        doc.close(True)
        self.docs = [(d, h) for d, h in self.docs if d is not doc]
        self.doc = self.docs[-1][0] if self.docs else None
        return {}

    def run_step(self, step):
        if not isinstance(step, dict):
            raise StepError(f"a step must be an object, got {step!r}")
        step = dict(step)
        op = step.pop("op", None)
        fn = getattr(self, f"op_{op}", None) if isinstance(op, str) else None
        if fn is None:
            raise StepError(f"unknown op {op!r}")
        try:
            return fn(**step)
        except TypeError as e:
            if "argument" in str(e) and fn.__name__ in str(e):
                raise StepError(f"bad arguments for {op!r}: {e}") from None
            raise
