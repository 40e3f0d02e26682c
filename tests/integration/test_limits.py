"""Rate limits: per token (429 + Retry-After) and slowing down an address that guesses tokens."""
import time

import berth_harness as h

# Two loopback addresses: berthd tells clients apart by source address.
HERE, ELSEWHERE = "127.0.0.1", "127.0.0.2"


class TokenRateLimitTest(h.BerthdTestCase):
    berthd_args = ["--rate-limit-token", "5", "--rate-limit-address", "0", "--auth-failure-burst", "100000"]

    def test_burst_then_429_with_retry_after_for_that_token_only(self):
        other = self.admin.post("/v1/tokens", {"name": "other", "role": "admin"}).json["token"]
        statuses = [self.admin.get("/v1/projects").status for _ in range(30)]
        # A burst of 2 x rate (10, one spent above) is allowed, then the token is limited.
        self.assertEqual(statuses[:9], [200] * 9)
        self.assertIn(429, statuses[9:])
        r = self.admin.get("/v1/projects")
        self.assertError(r, 429, "rate_limited", "request rate")
        self.assertEqual(self.client(other).get("/v1/projects").status, 200, "one token's limit throttled another")
        # Retry-After means what it says: waiting that long is enough.
        time.sleep(int(r.headers["retry-after"]))
        self.assertEqual(self.admin.get("/v1/projects").status, 200)


class AuthFailureSlowdownTest(h.BerthdTestCase):
    berthd_args = ["--rate-limit-token", "0", "--rate-limit-address", "0", "--auth-failure-burst", "3"]

    def test_guessing_address_is_slowed_even_with_a_good_token(self):
        guesser = self.client("berth_" + "0" * 64, source=HERE)
        self.assertEqual([guesser.get("/v1/projects").status for _ in range(3)], [401, 401, 401])
        # Past the burst: the guesser's address is slowed, whatever token it shows.
        self.assertError(guesser.get("/v1/projects"), 429, "rate_limited", "failed authentication")
        for _ in range(3):
            r = self.client(self.berthd.admin_token, source=HERE).get("/v1/projects")
            self.assertError(r, 429, "rate_limited", "failed authentication")
            self.assertGreaterEqual(int(r.headers["retry-after"]), 1)
        # Another address is not punished for the guesser.
        self.assertEqual(self.client(self.berthd.admin_token, source=ELSEWHERE).get("/v1/projects").status, 200)


if __name__ == "__main__":
    h.main()
