// Replaced by the store benchmark.
print("oneseal-bench-store: not yet written")
