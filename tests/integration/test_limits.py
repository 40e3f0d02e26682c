"""Rate limits: per token (429 + Retry-After) and slowing down an address that guesses tokens."""
import unittest

import berth_harness as h


class TokenRateLimitTest(h.BerthdTestCase):
    berthd_args = ["--rate-limit-token", "5", "--rate-limit-address", "0", "--auth-failure-burst", "100000"]

    def test_burst_then_429_with_retry_after(self):
        statuses = [self.admin.get("/v1/projects").status for _ in range(30)]
        self.assertIn(200, statuses)
        self.assertIn(429, statuses)
        r = self.admin.get("/v1/projects")
        self.assertError(r, 429, "rate_limited", "request rate")
        self.assertGreaterEqual(int(r.headers["retry-after"]), 1)


class AuthFailureSlowdownTest(h.BerthdTestCase):
    berthd_args = ["--rate-limit-token", "0", "--rate-limit-address", "0", "--auth-failure-burst", "3"]

    def test_guessing_address_is_slowed_even_with_a_good_token(self):
        guesser = self.berthd.client("berth_" + "0" * 64)
        self.assertEqual([guesser.get("/v1/projects").status for _ in range(3)], [401, 401, 401])
        r = self.admin.get("/v1/projects")
        self.assertError(r, 429, "rate_limited", "failed authentication")
        self.assertIn("retry-after", r.headers)


if __name__ == "__main__":
    h.main()
