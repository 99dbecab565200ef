# Solutions to chapter 07's exercises: try them yourself first.
#
# Each "# %% exercise N" section is an answer to exercise N (paste it over the exercise cell).
# Each "# %% exercise N wrong: ..." section is a plausible wrong answer, which the chapter's
# check must reject; the test suite runs both (tests/test_exercises.py).

# %% exercise 1
first_to_hear = "alice"      # the room is in Amsterdam, next to her: every message goes there first
bob_round_trip_ms = 300      # Sydney -> Amsterdam -> Sydney

# %% exercise 1 wrong: the sender hears himself first
first_to_hear = "bob"
bob_round_trip_ms = 300

# %% exercise 1 wrong: counts only one way to the room
first_to_hear = "alice"
bob_round_trip_ms = 140

# %% exercise 2
from dolab import WebSocketRequestResponsePair


class QuietRoom(ChatRoom):
    def __init__(self, ctx, env):
        super().__init__(ctx, env)
        ctx.setWebSocketAutoResponse(WebSocketRequestResponsePair("ping", "pong"))

# %% exercise 2 wrong: answers the ping from webSocketMessage, which wakes the room
from dolab import WebSocketRequestResponsePair


class QuietRoom(ChatRoom):
    async def webSocketMessage(self, ws, message):
        if message == "ping":
            ws.send("pong")
        else:
            await super().webSocketMessage(ws, message)

# %% exercise 2 wrong: request and response swapped
from dolab import WebSocketRequestResponsePair


class QuietRoom(ChatRoom):
    def __init__(self, ctx, env):
        super().__init__(ctx, env)
        ctx.setWebSocketAutoResponse(WebSocketRequestResponsePair("pong", "ping"))

# %% exercise 3
class FixedRoom(ChatRoom):
    def __init__(self, ctx, env):
        super().__init__(ctx, env)
        self.presence = Presence(ctx, every=None)

    async def fetch(self, request):
        response = await super().fetch(request)
        self.presence.announce()
        return response

# %% exercise 3 wrong: a slower heartbeat is still a pending timer
class FixedRoom(ChatRoom):
    def __init__(self, ctx, env):
        super().__init__(ctx, env)
        self.presence = Presence(ctx, every=300)

    async def fetch(self, request):
        response = await super().fetch(request)
        self.presence.announce()
        return response

# %% exercise 3 wrong: announces on join but keeps the heartbeat
class FixedRoom(ChatRoom):
    def __init__(self, ctx, env):
        super().__init__(ctx, env)
        self.presence = Presence(ctx)

    async def fetch(self, request):
        response = await super().fetch(request)
        self.presence.announce()
        return response

# %% exercise 3 wrong: drops the presence list altogether
class FixedRoom(ChatRoom):
    def __init__(self, ctx, env):
        super().__init__(ctx, env)
        self.presence = Presence(ctx, every=None)

    async def fetch(self, request):
        return await super().fetch(request)
