"""Provides the People screen: accounts and divisions, without a word of any message."""

from __future__ import annotations

from collections.abc import Callable

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import DataTable, Footer, Header, Label

from appliance.auth import users
from appliance.auth.account_changes import AccountChange, change_account
from appliance.inbox import divisions
from appliance.notify.content_granted import send_content_granted_email
from tui.dialogs.confirm import ConfirmDialog
from tui.dialogs.division_form import DivisionFields, DivisionForm
from tui.dialogs.notice import NoticeDialog
from tui.dialogs.user_form import UserFields, UserForm
from tui.messages import Done, Loaded
from tui.screens.base import AdminScreen, cells, if_given, own_connection


class PeopleScreen(AdminScreen):
    NAME = "People"
    BINDINGS = [
        Binding("n", "new_user", "New user"),
        Binding("e", "edit_user", "Edit"),
        Binding("p", "reset_password", "Password"),
        Binding("t", "reset_2fa", "2FA"),
        Binding("x", "toggle_active", "On/off"),
        Binding("s", "sessions", "Sessions"),
        Binding("S", "end_sessions", "End sessions", show=False),
        Binding("N", "new_division", "New div"),
        Binding("E", "edit_division", "Edit div"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self._people: dict[int, users.UserView] = {}
        self._divisions: dict[int, divisions.DivisionView] = {}

    def compose(self) -> ComposeResult:
        yield Header()
        with Vertical():
            yield Label("Staff (Tab: divisions)")
            yield DataTable(id="users", cursor_type="row")
            yield Label("Divisions")
            yield DataTable(id="divisions", cursor_type="row")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#users", DataTable).add_columns("user", "name", "role", "divisions",
                                                        "state", "2FA")
        self.query_one("#divisions", DataTable).add_columns("id", "division", "retention")
        self.load()

    @work(thread=True, exclusive=True, group="load", exit_on_error=False)
    @own_connection
    def load(self) -> None:
        self.post_message(Loaded((users.list_users(self.principal),
                                  divisions.list_divisions(self.principal))))

    def on_loaded(self, message: Loaded) -> None:
        people, groups = message.payload
        self._people = {u.id: u for u in people}
        self._divisions = {d.id: d for d in groups}
        table = self.query_one("#users", DataTable)
        row = table.cursor_row
        table.clear()
        for u in people:
            table.add_row(*cells(u.username, u.display_name, u.role,
                          ", ".join(self._divisions[d].name for d in u.divisions
                                    if d in self._divisions) or "-",
                          "active" if u.is_active else "deactivated",
                          "on" if u.totp_enabled else "off"), key=str(u.id))
        table.move_cursor(row=row)
        dtable = self.query_one("#divisions", DataTable)
        drow = dtable.cursor_row
        dtable.clear()
        for d in groups:
            dtable.add_row(*cells(d.id, d.name,
                                  f"{d.retention_days} days" if d.retention_days else "no limit"),
                           key=str(d.id))
        dtable.move_cursor(row=drow)

    def _selected(self, table_id: str) -> int | None:
        table = self.query_one(table_id, DataTable)
        if table.row_count == 0:
            return None
        return int(table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value or 0)

    def _division_choices(self) -> list[tuple[str, int]]:
        return [(d.name, d.id) for d in self._divisions.values()]

    def _confirm_for_user(self, question: str, action: str,
                          then: Callable[[int], object]) -> None:
        user_id = self._selected("#users")
        if user_id is None:
            return
        who = self._people[user_id].username
        self.app.push_screen(ConfirmDialog(question.format(who=who), action=action),
                             if_given(lambda _: then(user_id)))

    # accounts

    def action_new_user(self) -> None:
        self.app.push_screen(UserForm(self._division_choices()),
                             if_given(self.create))

    @work(thread=True, exit_on_error=False)
    @own_connection
    def create(self, form: UserFields) -> None:
        user, password = users.create_user(
            self.rt, username=form.username, display_name=form.display_name, role=form.role,
            email=form.email, divisions=form.divisions, actor=self.principal.actor,
            principal=self.principal)
        self.post_message(Done(f"User name: {user.username}\nOne-time password: {password}\n\n"
                               "Hand it over; it must be changed at the first sign-in.",
                               title="Account created"))

    def action_edit_user(self) -> None:
        user_id = self._selected("#users")
        if user_id is None:
            return
        u = self._people[user_id]
        now = UserFields(u.username, u.display_name, u.email, u.role, list(u.divisions))
        self.app.push_screen(UserForm(self._division_choices(), now),
                             if_given(lambda form: self.change(user_id, now, form)))

    @work(thread=True, exit_on_error=False)
    @own_connection
    def change(self, user_id: int, before: UserFields, after: UserFields) -> None:
        change_account(self.rt, self.principal, user_id, AccountChange(
            role=after.role if after.role != before.role else None,
            divisions=after.divisions if sorted(after.divisions) != sorted(before.divisions)
            else None), tell_admins=lambda seq: send_content_granted_email(self.rt, seq))
        self.post_message(Done(f"{after.username} is now {after.role}. If they lost a role or a "
                               "division, their sessions ended.", title="Account changed"))

    def action_reset_password(self) -> None:
        self._confirm_for_user("Give {who} a new one-time password? Their sessions end now.",
                               "Reset", self.reset_password)

    @work(thread=True, exit_on_error=False)
    @own_connection
    def reset_password(self, user_id: int) -> None:
        password = users.reset_password(self.rt, self.principal, user_id)
        self.post_message(Done(f"One-time password: {password}\n\nHand it over; it must be "
                               "changed at the first sign-in.", title="Password reset"))

    def action_reset_2fa(self) -> None:
        self._confirm_for_user("Remove the second factor of {who} (a lost phone)? They enrol "
                               "again at their next sign-in.", "Remove", self.reset_2fa)

    @work(thread=True, exit_on_error=False)
    @own_connection
    def reset_2fa(self, user_id: int) -> None:
        users.reset_second_factor(self.rt, self.principal, user_id)
        self.post_message(Done("Second factor removed; they enrol again at the next sign-in."))

    def action_toggle_active(self) -> None:
        user_id = self._selected("#users")
        if user_id is None:
            return
        if self._people[user_id].is_active:
            self._confirm_for_user("Deactivate {who}? They are signed out everywhere and "
                                   "cannot sign in until activated again.", "Deactivate",
                                   lambda ident: self.set_active(ident, False))
        else:
            self.set_active(user_id, True)

    @work(thread=True, exit_on_error=False)
    @own_connection
    def set_active(self, user_id: int, active: bool) -> None:
        users.set_active(self.rt, self.principal, user_id, active)
        self.post_message(Done("Activated." if active else "Deactivated; sessions ended."))

    def action_sessions(self) -> None:
        user_id = self._selected("#users")
        if user_id is not None:
            self.show_sessions(user_id)

    @work(thread=True, exit_on_error=False)
    @own_connection
    def show_sessions(self, user_id: int) -> None:
        found = users.list_sessions(self.principal, user_id)
        lines = [f"since {s.started}, last seen {s.last_seen}, {s.ip or '?'}\n  {s.browser}"
                 for s in found] or ["No browser is signed in."]
        who = self._people[user_id].username
        self.app.call_from_thread(self.app.push_screen, NoticeDialog(
            f"Sessions of {who}" + (" (Shift+S ends them all)" if found else ""),
            "\n".join(lines)))

    def action_end_sessions(self) -> None:
        self._confirm_for_user("Sign {who} out of every browser now?", "End sessions",
                               self.end_sessions)

    @work(thread=True, exit_on_error=False)
    @own_connection
    def end_sessions(self, user_id: int) -> None:
        count = users.end_sessions(self.rt, self.principal, user_id)
        self.post_message(Done(f"{count} session(s) ended."))

    # divisions

    def action_new_division(self) -> None:
        self.app.push_screen(DivisionForm(),
                             if_given(self.new_division))

    @work(thread=True, exit_on_error=False)
    @own_connection
    def new_division(self, form: DivisionFields) -> None:
        divisions.create_division(self.rt, self.principal, form.name, form.retention_days)
        self.post_message(Done(f"Division {form.name} created."))

    def action_edit_division(self) -> None:
        division_id = self._selected("#divisions")
        if division_id is None:
            return
        d = self._divisions[division_id]
        self.app.push_screen(DivisionForm(DivisionFields(d.name, d.retention_days)),
                             if_given(lambda form: self.edit_division(division_id, form)))

    @work(thread=True, exit_on_error=False)
    @own_connection
    def edit_division(self, division_id: int, form: DivisionFields) -> None:
        divisions.update_division(self.rt, self.principal, division_id, name=form.name,
                                  retention_days=form.retention_days or 0)
        self.post_message(Done(f"Division {form.name} saved."))
