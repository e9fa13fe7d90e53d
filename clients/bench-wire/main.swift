print("oneseal-bench-wire: not yet written")
