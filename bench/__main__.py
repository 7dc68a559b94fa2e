"""`python -m bench`: run every benchmark in turn."""

from bench import ratelimit_overhead

if __name__ == "__main__":
    ratelimit_overhead.main()
