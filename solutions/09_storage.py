# Solutions to chapter 09's exercises: try them yourself first.
#
# Each "# %% exercise N" section is an answer to exercise N (paste it over the exercise cell).
# Each "# %% exercise N wrong: ..." section is a plausible wrong answer, which the chapter's
# check must reject; the test suite runs both (tests/test_exercises.py).

# %% exercise 1
customer_index = "CREATE INDEX orders_by_customer ON orders(customer)"
predicted_rows_read = 6          # 5 orders found, and one step onto the next customer's entry
predicted_rows_written = 3       # the row, its entry in orders_by_at, its entry in orders_by_customer

# %% exercise 1 wrong: an index on a column the lookup does not filter by
customer_index = "CREATE INDEX orders_by_total ON orders(total)"
predicted_rows_read = 6
predicted_rows_written = 3

# %% exercise 1 wrong: forgets that the index on `at` is written too
customer_index = "CREATE INDEX orders_by_customer ON orders(customer)"
predicted_rows_read = 6
predicted_rows_written = 2

# %% exercise 1 wrong: thinks an index lookup reads only the rows it returns
customer_index = "CREATE INDEX orders_by_customer ON orders(customer)"
predicted_rows_read = 5
predicted_rows_written = 3

# %% exercise 2
class SafeBoxOffice(BoxOffice):
    async def buy(self, gig):
        price = await self.env.PRICES.getByName("eur").quote(gig)     # the only await, before the read
        sql = self.ctx.storage.sql
        left = sql.exec("SELECT left FROM seats WHERE gig = ?", gig).one().left
        if left == 0:
            return "sold out"
        sql.exec("UPDATE seats SET left = ? WHERE gig = ?", left - 1, gig)
        sql.exec("INSERT INTO sales (gig, price) VALUES (?, ?)", gig, price)
        return f"1 ticket for {gig}, {price} EUR"

# %% exercise 2 wrong: reads the seats, then awaits the price, then writes (the race of BoxOffice.buy)
class SafeBoxOffice(BoxOffice):
    async def buy(self, gig):
        sql = self.ctx.storage.sql
        left = sql.exec("SELECT left FROM seats WHERE gig = ?", gig).one().left
        if left == 0:
            return "sold out"
        price = await self.env.PRICES.getByName("eur").quote(gig)
        sql.exec("UPDATE seats SET left = ? WHERE gig = ?", left - 1, gig)
        sql.exec("INSERT INTO sales (gig, price) VALUES (?, ?)", gig, price)
        return f"1 ticket for {gig}, {price} EUR"

# %% exercise 2 wrong: a guarded UPDATE after the await, but the sale is recorded whether or not a seat was left
class SafeBoxOffice(BoxOffice):
    async def buy(self, gig):
        price = await self.env.PRICES.getByName("eur").quote(gig)
        sql = self.ctx.storage.sql
        sql.exec("UPDATE seats SET left = left - 1 WHERE gig = ? AND left > 0", gig)
        sql.exec("INSERT INTO sales (gig, price) VALUES (?, ?)", gig, price)
        return f"1 ticket for {gig}, {price} EUR"

# %% exercise 3
class Notes(DurableObject):
    def __init__(self, ctx, env):
        super().__init__(ctx, env)

        async def setup():
            migrate(ctx.storage, [
                # version 1, as it was: objects of version 1 have the table already, and no numbers
                "CREATE TABLE IF NOT EXISTS notes (id INTEGER PRIMARY KEY, text TEXT NOT NULL)",
                "ALTER TABLE notes ADD COLUMN starred INTEGER NOT NULL DEFAULT 0",
            ])

        ctx.blockConcurrencyWhile(setup)

    async def add(self, text):
        self.ctx.storage.sql.exec("INSERT INTO notes (text) VALUES (?)", text)

    async def star(self, note_id):
        self.ctx.storage.sql.exec("UPDATE notes SET starred = 1 WHERE id = ?", note_id)

    async def all(self):
        return self.ctx.storage.sql.exec("SELECT id, text, starred FROM notes ORDER BY id").toArray()

# %% exercise 3 wrong: adds the column on every wake (the second wake fails: duplicate column)
class Notes(DurableObject):
    def __init__(self, ctx, env):
        super().__init__(ctx, env)

        async def setup():
            ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS notes (id INTEGER PRIMARY KEY, text TEXT NOT NULL)")
            ctx.storage.sql.exec("ALTER TABLE notes ADD COLUMN starred INTEGER NOT NULL DEFAULT 0")

        ctx.blockConcurrencyWhile(setup)

    async def add(self, text):
        self.ctx.storage.sql.exec("INSERT INTO notes (text) VALUES (?)", text)

    async def star(self, note_id):
        self.ctx.storage.sql.exec("UPDATE notes SET starred = 1 WHERE id = ?", note_id)

    async def all(self):
        return self.ctx.storage.sql.exec("SELECT id, text, starred FROM notes ORDER BY id").toArray()

# %% exercise 3 wrong: edits the CREATE TABLE instead (old objects keep their table, without the column)
class Notes(DurableObject):
    def __init__(self, ctx, env):
        super().__init__(ctx, env)

        async def setup():
            ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS notes "
                                 "(id INTEGER PRIMARY KEY, text TEXT NOT NULL, starred INTEGER NOT NULL DEFAULT 0)")

        ctx.blockConcurrencyWhile(setup)

    async def add(self, text):
        self.ctx.storage.sql.exec("INSERT INTO notes (text) VALUES (?)", text)

    async def star(self, note_id):
        self.ctx.storage.sql.exec("UPDATE notes SET starred = 1 WHERE id = ?", note_id)

    async def all(self):
        return self.ctx.storage.sql.exec("SELECT id, text, starred FROM notes ORDER BY id").toArray()

# %% exercise 3 wrong: numbered migrations, but the first one fails on objects that already have the table
class Notes(DurableObject):
    def __init__(self, ctx, env):
        super().__init__(ctx, env)

        async def setup():
            migrate(ctx.storage, [
                "CREATE TABLE notes (id INTEGER PRIMARY KEY, text TEXT NOT NULL)",
                "ALTER TABLE notes ADD COLUMN starred INTEGER NOT NULL DEFAULT 0",
            ])

        ctx.blockConcurrencyWhile(setup)

    async def add(self, text):
        self.ctx.storage.sql.exec("INSERT INTO notes (text) VALUES (?)", text)

    async def star(self, note_id):
        self.ctx.storage.sql.exec("UPDATE notes SET starred = 1 WHERE id = ?", note_id)

    async def all(self):
        return self.ctx.storage.sql.exec("SELECT id, text, starred FROM notes ORDER BY id").toArray()

# %% exercise 3 wrong: starts over with a new table (the old notes are lost)
class Notes(DurableObject):
    def __init__(self, ctx, env):
        super().__init__(ctx, env)

        async def setup():
            migrate(ctx.storage, [
                "DROP TABLE IF EXISTS notes",
                "CREATE TABLE notes (id INTEGER PRIMARY KEY, text TEXT NOT NULL, starred INTEGER NOT NULL DEFAULT 0)",
            ])

        ctx.blockConcurrencyWhile(setup)

    async def add(self, text):
        self.ctx.storage.sql.exec("INSERT INTO notes (text) VALUES (?)", text)

    async def star(self, note_id):
        self.ctx.storage.sql.exec("UPDATE notes SET starred = 1 WHERE id = ?", note_id)

    async def all(self):
        return self.ctx.storage.sql.exec("SELECT id, text, starred FROM notes ORDER BY id").toArray()
