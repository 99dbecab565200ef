# Solutions to chapter 08's exercises: try them yourself first.
#
# Each "# %% exercise N" section is an answer to exercise N (paste it over the exercise cell).
# Each "# %% exercise N wrong: ..." section is a plausible wrong answer, which the chapter's
# check must reject; the test suite runs both (tests/test_exercises.py).

# %% exercise 1
runs_of_fail = 1            # a PythonError is not .retryable: raised at once
calls_reaching_object = 1   # the two lost attempts never got there

# %% exercise 1 wrong: thinks the loop retries the object's own error
runs_of_fail = 3
calls_reaching_object = 1

# %% exercise 1 wrong: thinks a lost connection reached the object
runs_of_fail = 1
calls_reaching_object = 3

# %% exercise 2
async def safe_buy(stub, sku):
    try:
        return await stub.buy(sku)
    except Exception as error:
        if getattr(error, "name", None) == "PythonError" and error.message.splitlines()[-1] == "ValueError: out of stock":
            return "sold out"
        raise

# %% exercise 2 wrong: catches ValueError, which never arrives as such
async def safe_buy(stub, sku):
    try:
        return await stub.buy(sku)
    except ValueError as error:
        if "out of stock" in str(error):
            return "sold out"
        raise

# %% exercise 2 wrong: every failure becomes "sold out"
async def safe_buy(stub, sku):
    try:
        return await stub.buy(sku)
    except Exception as error:
        if error:
            return "sold out"
        raise

# %% exercise 2 wrong: looks for the Python type in .name
async def safe_buy(stub, sku):
    try:
        return await stub.buy(sku)
    except Exception as error:
        if getattr(error, "name", None) == "ValueError":
            return "sold out"
        raise

# %% exercise 3
class CancellingAssistant(Assistant):
    async def cancel(self, title):
        self.ctx.storage.sql.exec("UPDATE tasks SET done = 1 WHERE title = ? AND done = 0", title)
        await self.schedule_next()
        return "cancelled"

# %% exercise 3 wrong: marks the task done but leaves the alarm where it was
class CancellingAssistant(Assistant):
    async def cancel(self, title):
        self.ctx.storage.sql.exec("UPDATE tasks SET done = 1 WHERE title = ? AND done = 0", title)
        return "cancelled"

# %% exercise 3 wrong: deletes the one alarm, which the other task needed too
class CancellingAssistant(Assistant):
    async def cancel(self, title):
        self.ctx.storage.sql.exec("UPDATE tasks SET done = 1 WHERE title = ? AND done = 0", title)
        await self.ctx.storage.deleteAlarm()
        return "cancelled"
