"""The pass/fail tally the deploy/ checks print: one line per expectation, failures counted."""


class Checks:
    def __init__(self):
        self.failures = 0

    def expect(self, condition, what):
        print(("ok   " if condition else "FAIL ") + what)
        if not condition:
            self.failures += 1
        return condition
