"""`python -m bench`: run every benchmark in turn."""

from bench import (
    match_accuracy,
    match_speed,
    normalize_speed,
    ratelimit_overhead,
    repository_build,
    search_speed,
)

if __name__ == "__main__":
    ratelimit_overhead.main()
    normalize_speed.main()
    repository_build.main([])
    search_speed.main()
    match_accuracy.main()
    match_speed.main([])
