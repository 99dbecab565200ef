"""Durable Object semantics on a virtual clock: the part that ports to Cloudflare.

What lives here: the ``Lab`` (an in-process account) and its ``Engine``; namespaces, ids and
stubs; the ``ObjectHost`` of each active object with its input gate and output gate; storage
(KV and SQL on a real SQLite database per object); alarms, WebSockets, the lifecycle
(hibernation and eviction) and the loop whose clock is virtual.

It may import: the standard library and its own modules only. Never pandas, matplotlib,
ipywidgets or tqdm, and nothing from ``dolab.sim``, ``dolab.lessons`` or ``dolab.view``.

One request, top to bottom (``await env.CART.getByName("alice").add(2)``):

1. ``namespace.DurableObjectNamespace.getByName`` makes an id and a stub; nothing runs yet.
2. ``namespace.RpcMethod.__call__`` copies the arguments (``values.to_wire``) and hands the call
   to the lab's thread (``engine.Engine.enter``, ``engine.PendingCall``).
3. ``namespace.DurableObjectStub._invoke`` activates the object (``namespace.DurableObjectNamespace.host``)
   and, in a simulation, pays the network transit.
4. ``host.ObjectHost.call`` admits the event through the input gate (``gate.InputGate.enter``),
   constructing the instance if it was cold.
5. The handler runs; its ``ctx.storage`` calls (``storage``, ``sql``, ``database``) write inside
   an implicit transaction and hold the input gate while they are awaited.
6. ``host.ObjectHost._reply`` is the output gate: the result is copied out and the transaction
   commits before the reply leaves.
7. Errors reach the caller as Cloudflare shows them (``host.ObjectHost._as_caller_sees_it``).
8. Idle again, the object hibernates after 10 s or is evicted (``lifecycle.Lifecycle``).
"""
