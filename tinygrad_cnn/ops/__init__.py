"""The primitives: ``Function`` classes (forward and backward side by side) and the numpy
kernels they run.  Nothing here checks an argument: the entry points in
:mod:`tinygrad_cnn.nn.functional` (and Tensor's methods) validate and then ``apply`` these.

Functions, by file (``A`` <-> ``B``: an adjoint pair, each the other's backward, so every
derivative order stays inside the file):

==================  ===========================================================================
``elementwise.py``  Add Sub Mul Div Neg Pow PowScalar Exp Log Sqrt Abs Relu LeakyRelu Sigmoid
                    Tanh Clip Where MaskBy
``linalg.py``       MatMul (backward: MatMul of the gradient with the other operand)
``reduce.py``       Sum Mean Extremum (max/min; backward broadcasts with ``BroadcastTo``)
``shape.py``        Reshape Permute Concatenate Cast; BroadcastTo <-> SumTo; GetItem <-> IndexAdd
``conv.py``         the triad Conv2d ``C`` -> ConvTranspose2d ``T`` and Conv2dWeightGrad ``G``:
                    each one's backward is the other two (table in its docstring)
``im2col.py``       Unfold <-> Fold
``pool.py``         MaxPool2d -> WindowScatter <-> WindowGather; WindowSum <-> WindowSumAdjoint
``pad.py``          Pad (backward: the slice that removes the padding, a GetItem)
``upsample.py``     UpsampleNearest (backward: block sums, reshape + Sum)
``batchnorm.py``    BatchNormTraining (backward closed-form in Tensor ops)
``standardize.py``  Standardize (the core of layer_norm and group_norm; backward closed-form)
``activation.py``   Softmax LogSoftmax; Softplus Gelu Silu Hardswish, each -> its derivative
                    primitive (SoftplusDerivative, ...), whose own derivative is in Tensor ops
``loss.py``         BinaryCrossEntropy (backward as PyTorch's, in Tensor ops)
==================  ===========================================================================

Kernels and value types (plain numpy, no ``Function``, no checks):

==================  ===========================================================================
``geometry.py``     WindowGeometry (where the windows of conv/pool/unfold lie), output sizes
``im2col.py``       pad_for_windows, window_view, add_to_windows, im2col, col2im
``conv_gemm.py``    conv by im2col + one matrix product per group (``"im2col"``)
``conv_fft.py``     conv by scipy FFT (``"fft"``); same three-function interface
``conv_select.py``  the cost model that resolves ``"auto"`` to one of the two, among those
                    ``conv_accuracy.py`` finds as accurate as im2col (an FFT in float64)
``pool_windows.py`` max/sum over windows, scatter/gather of the chosen elements, divisors
==================  ===========================================================================

Adding a primitive: see "Adding a primitive" in ``docs/contributing.md``.
"""
