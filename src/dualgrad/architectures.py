"""Architecture names, importable without torch (config validation runs in torch-free environments)."""

ARCHITECTURES = ("ResNet18", "ResNet34", "VGG11", "VGG11_BN_MLP", "SimpleCNN")
