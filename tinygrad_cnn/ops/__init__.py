"""The primitives: ``Function`` classes (forward and backward side by side) and the numpy
kernels they run.  Nothing here checks an argument: the entry points in
:mod:`tinygrad_cnn.nn.functional` (and Tensor's methods) validate and then ``apply`` these.

Functions, by file (``A`` <-> ``B``: an adjoint pair, each the other's backward, so every
derivative order stays inside the file):

=====================  ===========================================================================
``elementwise.py``     Add Sub Mul Div Neg Pow PowScalar Exp Log Sqrt Rsqrt Abs Relu LeakyRelu
                       Sigmoid Tanh Clip Where MaskBy Erf (erf, erfc) Lerp
``linalg.py``          MatMul (backward: MatMul of the gradient with the other operand)
                       Einsum (each operand's gradient another Einsum)
``reduce.py``          Sum Mean Extremum (max/min; backward broadcasts with ``BroadcastTo``)
                       Prod Cumsum Cumprod
``shape.py``           Reshape Permute Concatenate Cast Flip Clone; BroadcastTo <-> SumTo;
                       GetItem <-> IndexAdd (also gather, scatter_add, index_add); IndexPut
                       (t[i] = v, scatter); ViewUpdate; ScatterMultiply (no derivative, as
                       PyTorch's)
``conv.py``            the triad Conv2d ``C`` -> ConvTranspose2d ``T`` and Conv2dWeightGrad ``G``:
                       each one's backward is the other two (table in its docstring)
``im2col.py``          Unfold <-> Fold
``pool.py``            MaxPool2d -> WindowScatter <-> WindowGather; WindowSum <-> WindowSumAdjoint;
                       PlaneGather <-> PlaneScatterAdd (flat indices: return_indices, adaptive
                       max); MaxUnpool2d -> PlaneGather
``pad.py``             Pad (its own adjoint: Pad with the widths negated); PadEdges <->
                       PadEdgesAdjoint (reflect / replicate / circular)
``upsample.py``        UpsampleNearest <-> BlockSum (integer nearest upscaling and its block sums)
``resample.py``        Resample (its own adjoint: the transposed per-axis matrices; interpolate,
                       adaptive average pooling); NearestGather <-> NearestGatherAdjoint
``batchnorm.py``       BatchNormTraining (backward closed-form in Tensor ops)
``standardize.py``     Standardize (the core of layer_norm and group_norm; backward closed-form)
``activation.py``      Softmax LogSoftmax; Softplus Gelu Silu Hardswish, each -> its derivative
                       primitive (SoftplusDerivative, ...), whose own derivative is in Tensor ops
``loss.py``            BinaryCrossEntropy (backward as PyTorch's, in Tensor ops)
``embedding.py``       EmbeddingLookup (rows by index; backward: IndexAdd of the masked, scaled
                       gradient rows)
=====================  ===========================================================================

Kernels and value types (plain numpy, no ``Function``, no checks):

=====================  ===========================================================================
``geometry.py``        WindowGeometry (where the windows of conv/pool/unfold lie), output sizes
``im2col.py``          pad_for_windows, window_view, add_to_windows, im2col, col2im
``conv_gemm.py``       conv by im2col + one matrix product per group (``"im2col"``)
``conv_fft.py``        conv by scipy FFT / matrix DFT (``"fft"``); same three-function interface
``conv_strided.py``    strided conv by stride phases in a flat layout (``"im2col_phases"``)
``conv_memo.py``       the transforms (spectra, phase planes) one training step's ops share
``conv_winograd.py``   3x3 stride-1 conv by Winograd F(4x4,3x3) (``"winograd"``) or F(2x2,3x3)
                       (``"winograd_f2"``); same interface
``im2col_flat.py``     stride-1 conv by im2col in the flat-shift layout (``"im2col_flat"``): window
                       copies and col2im adds as long contiguous runs; same interface
``threads.py``         set_num_threads / get_num_threads (BLAS, FFT workers), blas_threads,
                       map_chunks, the governor (threads used per op: the cores left free)
``second_core.py``     a helper process that computes a kernel's share at two threads (no
                       shared GIL; arrays through a shared file mapping); its loop in
                       ``_second_core_worker.py``
``conv_select.py``     the cost model that resolves ``"auto"`` to one of them, among those
                       as accurate as im2col (``conv_accuracy.py``: an FFT in float64; Winograd
                       only F(2x2), on finite data)
``conv_tune.py``       benchmark mode (``backends.cudnn.benchmark``): "auto" by timing its
                       candidates on a configuration's first call
``pool_windows.py``    max/sum over windows, scatter/gather of the chosen elements, divisors,
                       flat indices (max_pool_indices, adaptive_max_indices), plane gather/scatter
``resample.py``        the per-axis matrices and indices of interpolate and adaptive pooling
``grid_sample.py``     grid_sample's piecewise-constant parts (padding modes' coordinate maps,
                       corner indices and masks) and affine_grid's base grid
=====================  ===========================================================================

Adding a primitive: see "Adding a primitive" in ``docs/contributing.md``.
"""
