package data

import (
	"bytes"
	"fmt"

	"github.com/dmtc-go/dmtc/third_party/fashionmnist"
)

// EmbeddedFashionMNISTName is the source name of the embedded test set.
const EmbeddedFashionMNISTName = "fashion-mnist-test"

// FashionMNISTClasses returns the Fashion-MNIST class names in label order.
func FashionMNISTClasses() []string {
	return []string{
		"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
		"Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
	}
}

// LoadEmbeddedFashionMNIST decodes the Fashion-MNIST test set compiled into
// the binary: 10,000 grey 28×28 images, 1,000 per class.
func LoadEmbeddedFashionMNIST() (*IDXSource, error) {
	images, err := ReadIDXImages(bytes.NewReader(fashionmnist.TestImagesGz))
	if err != nil {
		return nil, fmt.Errorf("data: embedded Fashion-MNIST images: %w", err)
	}
	labels, err := ReadIDXLabels(bytes.NewReader(fashionmnist.TestLabelsGz))
	if err != nil {
		return nil, fmt.Errorf("data: embedded Fashion-MNIST labels: %w", err)
	}
	return NewIDXSource(EmbeddedFashionMNISTName, images, labels, FashionMNISTClasses())
}
