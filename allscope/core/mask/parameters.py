"""The paper's mask parameters, in one place for the mask and its reference implementation.

Hosseini, Ghaderzadeh, Eshraghi et al. (Informatics in Medicine Unlocked 39, 2023) cluster the
LAB a-channel of a 224×224 field into seven groups and keep those whose centre lies above 141;
objects under 200 px are removed and holes under 250 px filled. On other field sizes the two
areas scale with the field's area (``REFERENCE_AREA``).
"""

K = 7  # K-means clusters on the a-channel
A_THRESHOLD = 141.0  # a-channel value (0-255) above which a cluster is white-cell stain
MIN_OBJECT_PX = 200  # smallest white-cell object kept, at the reference size
MIN_HOLE_PX = 250  # largest hole filled, at the reference size
REFERENCE_AREA = 224 * 224  # the field area the pixel sizes above are stated for
