"""Least squares on the comparison graph of a tabular policy (Eq. 3 for tabular classes).

For a tabular policy the pair log-ratio ``log pi(y|x) - log pi(y'|x)`` is a difference of two
logits, so Eq. (3) asks for a change ``Delta`` of the logits with

    Delta[x, y_i] - Delta[x, y'_i] ~= b_i    for each pair i,

an ordinary least-squares problem on the graph whose nodes are (prompt, response) logits and
whose edges are the sampled pairs. Its solutions differ by a constant on each connected
component; the minimum-norm one (what gradient descent from ``Delta = 0`` converges to) has
zero mean on every component. Logits that no pair touches keep ``Delta = 0``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.sparse import coo_matrix, csr_matrix
from scipy.sparse.csgraph import connected_components
from scipy.sparse.linalg import spsolve

from srlm.policies.base import FloatArray, IntArray


@dataclass(frozen=True)
class PairGraph:
    """The comparison graph restricted to the logits that some pair touches.

    Attributes:
        touched: (M,) flat indices ``x * Y + y`` of the touched logits, increasing.
        u: (n,) compact node of each pair's first response (index into ``touched``).
        v: (n,) compact node of each pair's second response.
        component: (M,) connected-component label of each touched node.
        num_components: Number of components.
    """

    touched: IntArray
    u: IntArray
    v: IntArray
    component: IntArray
    num_components: int


def build_pair_graph(num_logits: int, first: IntArray, second: IntArray) -> PairGraph:
    """Compact the touched logits and label the components of the pair graph.

    Runs in time linear in the pairs plus one pass over a byte per logit (to list the
    touched ones in order); no sort.

    Args:
        num_logits: ``P * Y``.
        first: (n,) flat index of each pair's ``(x, y)``.
        second: (n,) flat index of each pair's ``(x, y')``.
    """
    # Mark the touched logits, then number them in increasing order.
    mark = np.zeros(num_logits, dtype=np.bool_)
    mark[first] = True
    mark[second] = True
    touched = np.flatnonzero(mark)
    compact = np.empty(num_logits, dtype=np.int32 if num_logits < 2**31 else np.int64)
    compact[touched] = np.arange(touched.size)
    u, v = compact[first].astype(np.int64), compact[second].astype(np.int64)

    # Connected components of the undirected pair graph on the touched nodes.
    size = touched.size
    # float64 weights and int32 indices are what scipy's traversal takes as they are; any
    # other dtype makes it convert, and canonicalise, a copy first (twice the time).
    ones = np.ones(u.size)
    index = compact.dtype
    if np.all(u[1:] >= u[:-1]):  # rows already grouped (sampled pairs are): skip the sort
        indptr = np.zeros(size + 1, dtype=index)
        np.cumsum(np.bincount(u, minlength=size), out=indptr[1:])
        adjacency = csr_matrix((ones, v.astype(index), indptr), shape=(size, size))
    else:
        adjacency = csr_matrix((ones, (u, v)), shape=(size, size))
    num_components, component = connected_components(adjacency, directed=False)
    return PairGraph(touched, u, v, component.astype(np.int64), int(num_components))


def potential_solution(graph: PairGraph, h: FloatArray) -> FloatArray:
    """Minimum-norm solution when the targets are differences of a node potential.

    If ``b_i = h[u_i] - h[v_i]`` for a potential ``h`` on the touched nodes, the problem is
    solved with zero residual by ``Delta = h - mean_C(h)`` on each component ``C``: the
    closed form (with ``h = log pi_t / beta`` it scales each
    component's logits by ``1 + 1/beta`` about their mean).

    Args:
        graph: The pair graph.
        h: (M,) potential on the touched nodes.

    Returns:
        (M,) ``Delta`` on the touched nodes.
    """
    counts = np.bincount(graph.component, minlength=graph.num_components)
    sums = np.bincount(graph.component, weights=h, minlength=graph.num_components)
    return h - (sums / counts)[graph.component]


def general_solution(graph: PairGraph, b: FloatArray) -> FloatArray:
    """Minimum-norm least-squares solution for arbitrary targets, by a direct sparse solve.

    The normal equations ``L Delta = B^T b`` (``B`` the (n, M) signed incidence matrix,
    ``L = B^T B`` the graph Laplacian) are singular once per component. Fixing one node per
    component at zero leaves a nonsingular system, solved by sparse LU; subtracting each
    component's mean then gives the minimum-norm solution.

    Args:
        graph: The pair graph.
        b: (n,) target of each pair's difference.

    Returns:
        (M,) ``Delta`` on the touched nodes.
    """
    size = graph.touched.size
    n = graph.u.size
    rows = np.concatenate([np.arange(n), np.arange(n)])
    cols = np.concatenate([graph.u, graph.v])
    signs = np.concatenate([np.ones(n), -np.ones(n)])
    incidence = coo_matrix((signs, (rows, cols)), shape=(n, size)).tocsr()  # (n, M)
    laplacian = (incidence.T @ incidence).tocsr()  # (M, M)
    rhs = incidence.T @ b  # (M,)

    # Ground the first node of each component; solve the rest.
    _, roots = np.unique(graph.component, return_index=True)
    free = np.ones(size, dtype=np.bool_)
    free[roots] = False
    delta = np.zeros(size)
    if free.any():
        reduced = laplacian[free][:, free].tocsc()
        delta[free] = np.atleast_1d(spsolve(reduced, rhs[free]))

    # Shift each component to zero mean: the minimum-norm member of the solution set.
    return potential_solution(graph, delta)
