"""The white-cell mask: the paper's LAB K-means on the a-channel (``lab_kmeans``), its 1-D
K-means (``kmeans1d``), the morphological clean-up (``cleanup``) and the paper's parameters
(``parameters``)."""
