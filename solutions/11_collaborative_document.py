# Solutions to chapter 11's exercises: try them yourself first.
#
# Each "# %% exercise N" section is an answer to exercise N (paste it over the exercise cell).
# Each "# %% exercise N wrong: ..." section is a plausible wrong answer, which the chapter's
# check must reject; the test suite runs both (tests/test_exercises.py).

# %% exercise 1
def insert_after(op, other, op_first):
    """op (an insert), rewritten to apply after other (an insert)."""
    if op["at"] < other["at"] or (op["at"] == other["at"] and op_first):
        return op
    return {"at": op["at"] + len(other["insert"]), "insert": op["insert"]}

# %% exercise 1 wrong: ties broken the same way on both sides, so each puts its own text first
def insert_after(op, other, op_first):
    if op["at"] <= other["at"]:
        return op
    return {"at": op["at"] + len(other["insert"]), "insert": op["insert"]}

# %% exercise 1 wrong: shifts by one character, not by the length of the other's text
def insert_after(op, other, op_first):
    if op["at"] < other["at"] or (op["at"] == other["at"] and op_first):
        return op
    return {"at": op["at"] + 1, "insert": op["insert"]}

# %% exercise 1 wrong: never moves, as if the other's text were not there
def insert_after(op, other, op_first):
    return op

# %% exercise 2
class MyDocument(Document):
    def compact(self, keep=KEEP):
        snap = self.sql.exec("SELECT version, text FROM snapshot").one()
        cut = self.version - keep
        if cut <= snap.version:
            return 0
        text = snap.text
        for row in self.sql.exec("SELECT ops FROM log WHERE version > ? AND version <= ? ORDER BY version",
                                 snap.version, cut).toArray():
            text = apply_ops(text, json.loads(row.ops))
        self.sql.exec("UPDATE snapshot SET version = ?, text = ?", cut, text)
        self.sql.exec("DELETE FROM log WHERE version <= ?", cut)
        return cut - snap.version

# %% exercise 2 wrong: folds the entries into the snapshot but leaves them in the log, so a wake replays them again
class MyDocument(Document):
    def compact(self, keep=KEEP):
        snap = self.sql.exec("SELECT version, text FROM snapshot").one()
        cut = self.version - keep
        if cut <= snap.version:
            return 0
        text = snap.text
        for row in self.sql.exec("SELECT ops FROM log WHERE version > ? AND version <= ? ORDER BY version",
                                 snap.version, cut).toArray():
            text = apply_ops(text, json.loads(row.ops))
        self.sql.exec("UPDATE snapshot SET version = ?, text = ?", cut, text)
        return cut - snap.version

# %% exercise 2 wrong: replays from the start of the log, not from the snapshot's version, so a second run folds twice
class MyDocument(Document):
    def compact(self, keep=KEEP):
        snap = self.sql.exec("SELECT version, text FROM snapshot").one()
        rows = self.sql.exec("SELECT version, ops FROM log ORDER BY version").toArray()
        old = rows[:-keep] if len(rows) > keep else []
        text = snap.text
        for row in old:
            text = apply_ops(text, json.loads(row.ops))
        self.sql.exec("UPDATE snapshot SET version = ?, text = ?", self.version - keep, text)
        return len(old)

# %% exercise 3
from collections import Counter


class TabsDocument(Document):
    def online(self):
        return dict(Counter(tag for ws in self.ctx.getWebSockets() if ws.readyState == 1
                            for tag in self.ctx.getTags(ws)))

# %% exercise 3 wrong: a count kept in memory, which hibernation forgets while the tabs stay open
class TabsDocument(Document):
    def __init__(self, ctx, env):
        self.tabs = {}
        super().__init__(ctx, env)

    async def fetch(self, request):
        user = parse_qs(urlparse(request.url).query).get("user", [""])[0]
        self.tabs[user] = self.tabs.get(user, 0) + 1
        return await super().fetch(request)

    async def webSocketClose(self, ws, code, reason, was_clean):
        user = self.ctx.getTags(ws)[0]
        self.tabs[user] = self.tabs.get(user, 1) - 1
        if not self.tabs[user]:
            del self.tabs[user]
        self.announce()

    def online(self):
        return dict(self.tabs)

# %% exercise 3 wrong: one entry per person, not per tab
class TabsDocument(Document):
    def online(self):
        return {tag: 1 for ws in self.ctx.getWebSockets() for tag in self.ctx.getTags(ws)}
