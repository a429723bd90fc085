class InvalidTransition(Exception):
    """A state change that the object's current state does not allow."""

    def __init__(self, obj, transition: str, message: str | None = None):
        self.obj = obj
        self.transition = transition
        state = getattr(obj, "status", None) or getattr(obj, "state", None)
        self.message = message or "این عملیات در وضعیت فعلی امکان‌پذیر نیست."
        super().__init__(f"{transition} not allowed on {obj!r} in state {state!r}")
