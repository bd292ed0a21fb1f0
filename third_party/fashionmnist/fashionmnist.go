// Package fashionmnist embeds the Fashion-MNIST test set (10,000 images,
// MIT licence, Copyright 2017 Zalando SE) as its two gzip-compressed IDX
// files. See README.md in this folder for the origin and checksums.
package fashionmnist

import _ "embed"

// TestImagesGz is t10k-images-idx3-ubyte.gz: 10,000 grey 28×28 images.
//
//go:embed t10k-images-idx3-ubyte.gz
var TestImagesGz []byte

// TestLabelsGz is t10k-labels-idx1-ubyte.gz: 10,000 labels in 0..9.
//
//go:embed t10k-labels-idx1-ubyte.gz
var TestLabelsGz []byte
