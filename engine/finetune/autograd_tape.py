"""A block of eager PyTorch code as autograd allocates it: forward without autograd, forward with it, backward.

An :class:`Op` is one tensor a line of model code creates: its bytes, the tensors it reads, the ones
autograd saves for its backward and the inputs its backward gives a gradient.  :func:`run_forward`
and :func:`run_backward` hand the requests, in program order, to a
:class:`~engine.training.memory.caching_allocator.CachingAllocator`.  The lifetimes follow PyTorch:

* a tensor dies after its last reader, unless autograd saved it (forward with autograd) or the
  caller keeps it (a checkpointed layer's output, the logits a model returns);
* a saved tensor dies once the backward of the earliest op that saved it has run (autograd releases a
  node's saved variables after the node runs);
* the backward of an op allocates a gradient for each input in ``grads`` (same bytes as the input),
  then its ``grad_scratch`` temporaries, and frees its incoming gradient; an input in ``passthrough``
  receives that incoming gradient itself (``AddBackward`` returns it unchanged for both operands);
* a gradient arriving for a tensor that already has one is added into it (``InputBuffer::accumulate``:
  in place when the buffer is not shared, else into a new tensor);
* an op with a trainable weight gives it a gradient after its inputs' (``MmBackward0`` computes
  ``self`` before ``mat2``), which ``AccumulateGrad`` keeps as the parameter's ``.grad``; a weight
  broadcast over the tokens (a norm's) first gets the unreduced product, which the engine sums to
  the weight's shape once the node has returned (``validate_outputs``: ``at::sum_to``).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from engine.training.memory.caching_allocator import CachingAllocator


@dataclass(frozen=True, slots=True)
class Op:
    out: str
    nbytes: int
    reads: tuple[str, ...] = ()
    saves: tuple[str, ...] = ()
    grads: tuple[str, ...] = ()
    passthrough: tuple[str, ...] = ()
    scratch: int = 0  # forward workspace: allocated before the output, freed once the output exists
    grad_scratch: tuple[int, ...] = ()
    param_grads: tuple[int, ...] = ()  # trainable weights' gradients, kept as their .grad
    param_grad_scratch: int = 0  # the unreduced weight gradient of a broadcast weight, before the input grads


@dataclass
class Tensors:
    """Live tensors by name and the allocator that holds them."""

    alloc: CachingAllocator
    handles: dict[str, int]
    sizes: dict[str, int]

    def new(self, name: str, nbytes: int) -> None:
        self.handles[name] = self.alloc.malloc(nbytes)
        self.sizes[name] = nbytes

    def drop(self, name: str) -> None:
        handle = self.handles.pop(name, None)
        if handle is not None:
            self.alloc.free(handle)


def _transient(alloc: CachingAllocator, nbytes: int) -> None:
    if nbytes:
        alloc.free(alloc.malloc(nbytes))


def run_forward(live: Tensors, ops: tuple[Op, ...], *, keep: frozenset[str], autograd: bool,
                consumed: frozenset[str] = frozenset()) -> None:
    """Allocate ``ops`` in order.  Names already in ``live`` before the call, and ``keep``, outlive it,
    except those in ``consumed`` (their last reference is this block's); with ``autograd`` so does every
    saved tensor (until :func:`run_backward`)."""
    outer = frozenset(live.handles) - consumed
    last_read: dict[str, int] = {}
    for i, op in enumerate(ops):
        for name in op.reads:
            last_read[name] = i
    saved = {name for op in ops for name in op.saves} if autograd else set()
    for i, op in enumerate(ops):
        scratch = live.alloc.malloc(op.scratch) if op.scratch else None
        live.new(op.out, op.nbytes)
        if scratch is not None:
            live.alloc.free(scratch)
        for name in (*op.reads, op.out):
            if name in outer or name in keep or name in saved:
                continue
            if last_read.get(name, -1) <= i:
                live.drop(name)


@dataclass
class _Gradients:
    live: Tensors
    by_tensor: dict[str, int]
    sharing: Counter[int]

    def release(self, handle: int) -> None:
        self.sharing[handle] -= 1
        if self.sharing[handle] == 0:
            del self.sharing[handle]
            self.live.alloc.free(handle)

    def arrive(self, name: str, handle: int) -> None:
        """A gradient for ``name`` (a new tensor, or one shared through ``passthrough``)."""
        held = self.by_tensor.get(name)
        self.sharing[handle] += 1
        if held is None:
            self.by_tensor[name] = handle
            return
        if self.sharing[held] > 1:  # shared: the sum is a new tensor
            total = self.live.alloc.malloc(self.live.sizes[name])
            self.sharing[total] += 1
            self.by_tensor[name] = total
            self.release(held)
        self.release(handle)  # added in place into the buffer


def run_backward(live: Tensors, ops: tuple[Op, ...], out: str, grad: int,
                 consumed: frozenset[str] = frozenset(), param_grads: list[int] | None = None) -> dict[str, int]:
    """Back-propagate ``grad`` (a handle sized like ``out``) through ``ops`` in reverse, freeing their saved
    tensors (and those of ``consumed``, tensors from outside whose last reference is this block's).
    Appends the handles of the weights' gradients to ``param_grads`` (required when an op has any).
    Returns the handles of the gradients left for tensors made outside ``ops``."""
    grads = _Gradients(live, {out: grad}, Counter({grad: 1}))
    made = {op.out for op in ops}
    owned = made | consumed
    first_saver: dict[str, int] = {}
    for i, op in enumerate(ops):
        for name in op.saves:
            first_saver.setdefault(name, i)
    for i in range(len(ops) - 1, -1, -1):
        op = ops[i]
        incoming = grads.by_tensor.pop(op.out, None)
        if incoming is not None:
            unreduced = live.alloc.malloc(op.param_grad_scratch) if op.param_grad_scratch else None
            for name in op.grads:
                grads.arrive(name, live.alloc.malloc(live.sizes[name]))
            for name in op.passthrough:
                grads.arrive(name, incoming)
            for nbytes in op.grad_scratch:
                _transient(live.alloc, nbytes)
            if op.param_grads:
                if param_grads is None:
                    raise ValueError(f"{op.out} has trainable weights: pass param_grads to keep their gradients")
                param_grads += [live.alloc.malloc(nbytes) for nbytes in op.param_grads]
            if unreduced is not None:
                live.alloc.free(unreduced)
            grads.release(incoming)
        for name in op.saves:
            if first_saver[name] == i and name in owned:  # a tensor from outside has other owners
                live.drop(name)
    return {name: handle for name, handle in grads.by_tensor.items() if name not in made}
