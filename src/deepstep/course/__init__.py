"""The courses' step-by-step API, exact: readable loop code that is also the test oracle.

Modules
-------
cnn      Convolutional Model: Step by Step (NHWC).
cs231n   CS231n assignment 2's naive conv and max-pool layers (NCHW).
dnn      Building your Deep Neural Network: Step by Step (examples are columns).
app      Deep Neural Network - Application (two-layer and L-layer models).
optim    Optimization Methods (mini-batches, momentum, Adam, learning-rate decay).
"""
