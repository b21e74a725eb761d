"""Help > Keyboard Shortcuts: every menu action that has a shortcut, grouped by menu.

Built from the live menus, so the page can never disagree with what the keys do.
"""

from __future__ import annotations

from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QDialog, QMenu, QMenuBar, QTreeWidget, QTreeWidgetItem, QVBoxLayout, QWidget


def shortcut_rows(bar: QMenuBar) -> list[tuple[str, str, str]]:
    """(menu, action, keys) for every action with a shortcut, in menu order."""
    rows: list[tuple[str, str, str]] = []

    def visit(menu: QMenu, path: str) -> None:
        for action in menu.actions():
            if action.menu() is not None:
                visit(action.menu(), f"{path} › {action.text().replace('&', '')}")
                continue
            keys = [k.toString(QKeySequence.SequenceFormat.NativeText) for k in action.shortcuts()]
            if any(keys):
                rows.append((path, action.text().replace("&", ""), ", ".join(k for k in keys if k)))

    for top in bar.actions():
        if top.menu() is not None:
            visit(top.menu(), top.text().replace("&", ""))
    return rows


class ShortcutsDialog(QDialog):
    """A non-modal page listing the shortcuts; opened from Help (F1)."""

    def __init__(self, bar: QMenuBar, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Keyboard Shortcuts")
        self.resize(560, 640)
        self.tree = QTreeWidget(self)
        self.tree.setHeaderLabels(["Action", "Keys"])
        self.tree.setRootIsDecorated(True)
        groups: dict[str, QTreeWidgetItem] = {}
        for menu, text, keys in shortcut_rows(bar):
            group = groups.get(menu)
            if group is None:
                group = groups[menu] = QTreeWidgetItem(self.tree, [menu, ""])
                group.setFirstColumnSpanned(True)
            QTreeWidgetItem(group, [text, keys])
        self.tree.expandAll()
        self.tree.resizeColumnToContents(0)
        layout = QVBoxLayout(self)
        layout.addWidget(self.tree)
