# Solutions to chapter 06's exercises: try them yourself first.
#
# Each "# %% exercise N" section is an answer to exercise N (paste it over the exercise cell).
# Each "# %% exercise N wrong: ..." section is a plausible wrong answer, which the chapter's
# check must reject; the test suite runs both (tests/test_exercises.py).

# %% exercise 1
dan_reminder_hours = [64]   # buy() deleted the first alarm; the mug (hour 40) replaced the lamp's (hour 30)

# %% exercise 1 wrong: forgets that buying deletes the alarm
dan_reminder_hours = [24, 64]

# %% exercise 1 wrong: thinks every add sets an alarm of its own
dan_reminder_hours = [54, 64]

# %% exercise 2
class PersistentCart(IdempotentCart):
    async def alarm(self, alarm_info=None):
        items = (await self.ctx.storage.get("items")) or []
        sent = (await self.ctx.storage.get("sent")) or 0
        if items and sent < 3:
            key = f"{self.ctx.id.name}/{await self.ctx.storage.get('reminder_for')}/{sent + 1}"
            mail = self.env.MAIL.getByName("mail")
            await mail.send(self.ctx.id.name, f"Reminder {sent + 1}", key=key)
            await self.ctx.storage.put("sent", sent + 1)
            await self.ctx.storage.setAlarm(datetime.now(UTC) + REMIND_AFTER)

# %% exercise 2 wrong: counts in memory, which is gone after each hibernation
class PersistentCart(IdempotentCart):
    def __init__(self, ctx, env):
        super().__init__(ctx, env)
        self.sent = 0

    async def alarm(self, alarm_info=None):
        items = (await self.ctx.storage.get("items")) or []
        sent = self.sent
        if items and sent < 3:
            key = f"{self.ctx.id.name}/{sent + 1}"
            mail = self.env.MAIL.getByName("mail")
            await mail.send(self.ctx.id.name, f"Reminder {sent + 1}", key=key)
            self.sent = sent + 1
            await self.ctx.storage.setAlarm(datetime.now(UTC) + REMIND_AFTER)

# %% exercise 2 wrong: counts on the class, shared by every cart in the process
class PersistentCart(IdempotentCart):
    sent = 0

    async def alarm(self, alarm_info=None):
        items = (await self.ctx.storage.get("items")) or []
        sent = type(self).sent
        if items and sent < 3:
            key = f"{self.ctx.id.name}/{sent + 1}"
            mail = self.env.MAIL.getByName("mail")
            await mail.send(self.ctx.id.name, f"Reminder {sent + 1}", key=key)
            type(self).sent = sent + 1
            await self.ctx.storage.setAlarm(datetime.now(UTC) + REMIND_AFTER)

# %% exercise 2 wrong: no key, so a lost reply sends a reminder twice
class PersistentCart(IdempotentCart):
    async def alarm(self, alarm_info=None):
        items = (await self.ctx.storage.get("items")) or []
        sent = (await self.ctx.storage.get("sent")) or 0
        if items and sent < 3:
            key = None
            mail = self.env.MAIL.getByName("mail")
            await mail.send(self.ctx.id.name, f"Reminder {sent + 1}", key=key)
            await self.ctx.storage.put("sent", sent + 1)
            await self.ctx.storage.setAlarm(datetime.now(UTC) + REMIND_AFTER)

# %% exercise 2 wrong: one key for all three reminders, so the second and third are dropped
class PersistentCart(IdempotentCart):
    async def alarm(self, alarm_info=None):
        items = (await self.ctx.storage.get("items")) or []
        sent = (await self.ctx.storage.get("sent")) or 0
        if items and sent < 3:
            key = f"{self.ctx.id.name}/{await self.ctx.storage.get('reminder_for')}"
            mail = self.env.MAIL.getByName("mail")
            await mail.send(self.ctx.id.name, f"Reminder {sent + 1}", key=key)
            await self.ctx.storage.put("sent", sent + 1)
            await self.ctx.storage.setAlarm(datetime.now(UTC) + REMIND_AFTER)

# %% exercise 2 wrong: a key that changes on every retry
class PersistentCart(IdempotentCart):
    async def alarm(self, alarm_info=None):
        items = (await self.ctx.storage.get("items")) or []
        sent = (await self.ctx.storage.get("sent")) or 0
        if items and sent < 3:
            key = f"{self.ctx.id.name}/{datetime.now(UTC).isoformat()}"
            mail = self.env.MAIL.getByName("mail")
            await mail.send(self.ctx.id.name, f"Reminder {sent + 1}", key=key)
            await self.ctx.storage.put("sent", sent + 1)
            await self.ctx.storage.setAlarm(datetime.now(UTC) + REMIND_AFTER)
