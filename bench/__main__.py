"""`python -m bench`: run every benchmark in turn."""

from bench import normalize_speed, ratelimit_overhead

if __name__ == "__main__":
    ratelimit_overhead.main()
    normalize_speed.main()
