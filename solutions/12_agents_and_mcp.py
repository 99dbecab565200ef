# Solutions to chapter 12's exercises: try them yourself first.
#
# Each "# %% exercise N" section is an answer to exercise N (paste it over the exercise cell).
# Each "# %% exercise N wrong: ..." section is a plausible wrong answer, which the chapter's
# check must reject; the test suite runs both (tests/test_exercises.py).

# %% exercise 1
class SearchableNotes(Notes):
    @tool("Find this session's notes that contain a word (in any case)")
    def search_notes(self, word: str) -> list:
        rows = self.sql("SELECT text FROM notes WHERE text LIKE ? ORDER BY id", f"%{word}%")
        return [row["text"] for row in rows]

# %% exercise 1 wrong: not marked as a tool (an RPC method, but tools/list does not show it)
class SearchableNotes(Notes):
    def search_notes(self, word: str) -> list:
        rows = self.sql("SELECT text FROM notes WHERE text LIKE ? ORDER BY id", f"%{word}%")
        return [row["text"] for row in rows]

# %% exercise 1 wrong: instr() is case-sensitive ("milk" does not find "Buy MILK")
class SearchableNotes(Notes):
    @tool("Find this session's notes that contain a word (in any case)")
    def search_notes(self, word: str) -> list:
        rows = self.sql("SELECT text FROM notes WHERE instr(text, ?) > 0 ORDER BY id", word)
        return [row["text"] for row in rows]

# %% exercise 1 wrong: the argument is called query, not word
class SearchableNotes(Notes):
    @tool("Find this session's notes that contain a word (in any case)")
    def search_notes(self, query: str) -> list:
        rows = self.sql("SELECT text FROM notes WHERE text LIKE ? ORDER BY id", f"%{query}%")
        return [row["text"] for row in rows]

# %% exercise 1 wrong: returns every note of the session
class SearchableNotes(Notes):
    @tool("Find this session's notes that contain a word (in any case)")
    def search_notes(self, word: str) -> list:
        return [row["text"] for row in self.sql("SELECT text FROM notes ORDER BY id")]

# %% exercise 2
class OnceReminders(Reminders):
    def __init__(self, ctx, env):
        super().__init__(ctx, env)
        self.sql("CREATE TABLE IF NOT EXISTS requests (id TEXT PRIMARY KEY)")

    @tool("Remind me of something in a few minutes")
    async def remind(self, text: str, minutes: float, request_id: str) -> str:
        if self.sql("SELECT id FROM requests WHERE id = ?", request_id):
            return "already scheduled"                     # a retry: the first call did the work
        self.sql("INSERT INTO requests (id) VALUES (?)", request_id)
        await self.schedule(minutes * 60, "follow_up", {"text": text})
        return f"I will remind you in {minutes:g} min"

# %% exercise 2 wrong: remembers the request ids in memory (a retry after eviction schedules again)
class OnceReminders(Reminders):
    def __init__(self, ctx, env):
        super().__init__(ctx, env)
        self.seen = set()

    @tool("Remind me of something in a few minutes")
    async def remind(self, text: str, minutes: float, request_id: str) -> str:
        if request_id in self.seen:
            return "already scheduled"
        self.seen.add(request_id)
        await self.schedule(minutes * 60, "follow_up", {"text": text})
        return f"I will remind you in {minutes:g} min"

# %% exercise 2 wrong: looks for a pending schedule with the id (a retry after the reminder went out schedules again)
class OnceReminders(Reminders):
    @tool("Remind me of something in a few minutes")
    async def remind(self, text: str, minutes: float, request_id: str) -> str:
        if any(s["payload"].get("request_id") == request_id for s in self.getSchedules()):
            return "already scheduled"
        await self.schedule(minutes * 60, "follow_up", {"text": text, "request_id": request_id})
        return f"I will remind you in {minutes:g} min"

# %% exercise 2 wrong: de-duplicates by text (two different requests to stretch become one)
class OnceReminders(Reminders):
    def __init__(self, ctx, env):
        super().__init__(ctx, env)
        self.sql("CREATE TABLE IF NOT EXISTS requests (text TEXT PRIMARY KEY)")

    @tool("Remind me of something in a few minutes")
    async def remind(self, text: str, minutes: float, request_id: str) -> str:
        if self.sql("SELECT text FROM requests WHERE text = ?", text):
            return "already scheduled"
        self.sql("INSERT INTO requests (text) VALUES (?)", text)
        await self.schedule(minutes * 60, "follow_up", {"text": text})
        return f"I will remind you in {minutes:g} min"

# %% exercise 3
class PrivateRecentNotes(Notes):
    @tool("Add a note to this session's notebook")
    def add_note(self, text: str) -> str:
        return super().add_note(text)                  # the session's own SQLite: nothing else to keep

    @tool("The last three notes of this session, oldest first")
    def recent_notes(self) -> list:
        rows = self.sql("SELECT text FROM notes ORDER BY id DESC LIMIT 3")
        return [row["text"] for row in reversed(rows)]

# %% exercise 3 wrong: a list per instance (private, but gone when the object is evicted)
class PrivateRecentNotes(Notes):
    def __init__(self, ctx, env):
        super().__init__(ctx, env)
        self.recent = []

    @tool("Add a note to this session's notebook")
    def add_note(self, text: str) -> str:
        self.recent.append(text)
        return super().add_note(text)

    @tool("The last three notes of this session, oldest first")
    def recent_notes(self) -> list:
        return self.recent[-3:]

# %% exercise 3 wrong: a class-level dict keyed by the session's name (shared by the isolate; lost with it)
class PrivateRecentNotes(Notes):
    recent = {}

    @tool("Add a note to this session's notebook")
    def add_note(self, text: str) -> str:
        self.recent.setdefault(self.name, []).append(text)
        return super().add_note(text)

    @tool("The last three notes of this session, oldest first")
    def recent_notes(self) -> list:
        return self.recent.get(self.name, [])[-3:]

# %% exercise 3 wrong: the newest three, newest first
class PrivateRecentNotes(Notes):
    @tool("Add a note to this session's notebook")
    def add_note(self, text: str) -> str:
        return super().add_note(text)

    @tool("The last three notes of this session, oldest first")
    def recent_notes(self) -> list:
        return [row["text"] for row in self.sql("SELECT text FROM notes ORDER BY id DESC LIMIT 3")]
