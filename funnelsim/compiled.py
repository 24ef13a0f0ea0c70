"""Compiled loops for the rules that touch every consumer on every step.

numpy makes one pass over the consumers per operation, and at ten thousand consumers a step is
mostly the fixed cost of a few hundred such calls. A compiled loop does a rule's passes in one
and pays one call. Kernels compile on first use and are cached on disk (numba's cache beside the
module, or the user's cache directory when that is read-only), so only a machine's first run
pays for compiling.

A kernel must give, bit for bit, what the numpy rule it replaces gave, so a seed's results do
not change: the same arithmetic in the same order (numba contracts nothing into fused
multiply-adds unless asked), no random numbers of its own (draws come from the model's numpy
generator, in the order the rules always drew them: drawn by numpy before the call, inside the
loop from the generator's own state with :mod:`funnelsim.agents.pcg64` and
:mod:`funnelsim.agents.distributions`, or by numpy's own C functions called from the loop,
:mod:`funnelsim.agents.numpy_c`), and no exp or log in place of numpy's array functions: numpy's
vectorised versions differ from the C library's in the last bit on some processors, so those
stay in numpy, on the few elements that need them. (numpy's random distributions use the C
library's, and so do the kernels that draw them.)
"""

from __future__ import annotations

import numba

#: Decorator for a kernel: nopython, cached on disk, numpy's rules for division by zero.
kernel = numba.njit(cache=True, nogil=True, error_model="numpy")
