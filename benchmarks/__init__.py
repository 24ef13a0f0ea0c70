"""funnelsim's performance benchmarks: ``python -m benchmarks.run [--quick]`` from the repository root.

Every figure is a median over repetitions and every timing is compared, in the same process and
interleaved with it, against a reference measured at the same moment, because the machines these
run on are shared and noisy. See the Performance section of README.md for the results and how to read them.
"""
