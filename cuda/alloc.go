//go:build cuda || cudaemu

package cuda

import (
	"errors"
	"fmt"
)

// Allocation sizes are rounded up to a size class. Freed blocks wait in a
// free list per class for the next request of that class, because cuMemAlloc
// and cuMemFree synchronise the device and cost far more than a kernel
// launch. Classes are powers of two from minClassBytes to largeClassBytes,
// then multiples of largeClassBytes, so a large buffer wastes less than 1 MiB.
const (
	minClassBytes   = 256
	largeClassBytes = 1 << 20
)

// sizeClass returns the number of bytes actually allocated for a request.
func sizeClass(bytes int) int {
	if bytes <= minClassBytes {
		return minClassBytes
	}
	if bytes > largeClassBytes {
		return (bytes + largeClassBytes - 1) / largeClassBytes * largeClassBytes
	}
	c := minClassBytes
	for c < bytes {
		c *= 2
	}
	return c
}

// MemoryStats describes the GPU backend's device memory.
type MemoryStats struct {
	InUseBytes     int64 // in tensors, rounded up to size classes
	PeakInUseBytes int64
	CachedBytes    int64 // freed by tensors, kept for reuse
	Allocs         int64 // tensor allocations
	CacheHits      int64 // allocations served from the cache
	DriverAllocs   int64 // calls to the driver's allocator
}

// allocator is a caching device-memory allocator. It is used from the device
// goroutine only and needs no lock.
type allocator struct {
	drv   driver
	free  map[int][]devicePtr // size class → cached blocks
	live  map[devicePtr]int   // allocated block → size class
	stats MemoryStats
}

func newAllocator(drv driver) *allocator {
	return &allocator{drv: drv, free: map[int][]devicePtr{}, live: map[devicePtr]int{}}
}

// alloc returns a block of at least bytes > 0 bytes, not initialised. When
// the driver is out of memory it releases the cache and tries once more.
func (a *allocator) alloc(bytes int) (devicePtr, error) {
	class := sizeClass(bytes)
	a.stats.Allocs++
	if list := a.free[class]; len(list) > 0 {
		p := list[len(list)-1]
		a.free[class] = list[:len(list)-1]
		a.stats.CacheHits++
		a.stats.CachedBytes -= int64(class)
		a.track(p, class)
		return p, nil
	}
	p, err := a.drv.alloc(class)
	if err != nil {
		if releaseErr := a.releaseCache(); releaseErr != nil {
			return 0, errors.Join(err, releaseErr)
		}
		p, err = a.drv.alloc(class)
		if err != nil {
			return 0, fmt.Errorf("%w (requested %d bytes; %d bytes in use)", err, bytes,
				a.stats.InUseBytes)
		}
	}
	a.stats.DriverAllocs++
	a.track(p, class)
	return p, nil
}

func (a *allocator) track(p devicePtr, class int) {
	a.live[p] = class
	a.stats.InUseBytes += int64(class)
	a.stats.PeakInUseBytes = max(a.stats.PeakInUseBytes, a.stats.InUseBytes)
}

// release returns p to the cache. Releasing a pointer that alloc did not
// return, or releasing it twice, is a programmer error.
func (a *allocator) release(p devicePtr) {
	class, ok := a.live[p]
	if !ok {
		panic(fmt.Sprintf("cuda: free of device pointer %#x that is not allocated", uint64(p)))
	}
	delete(a.live, p)
	a.stats.InUseBytes -= int64(class)
	a.stats.CachedBytes += int64(class)
	a.free[class] = append(a.free[class], p)
}

// releaseCache returns every cached block to the driver.
func (a *allocator) releaseCache() error {
	var errs []error
	for class, list := range a.free {
		for _, p := range list {
			if err := a.drv.free(p); err != nil {
				errs = append(errs, err)
			}
		}
		delete(a.free, class)
	}
	a.stats.CachedBytes = 0
	return errors.Join(errs...)
}

// releaseAll frees cached and live blocks, for Close.
func (a *allocator) releaseAll() error {
	errs := []error{a.releaseCache()}
	for p := range a.live {
		if err := a.drv.free(p); err != nil {
			errs = append(errs, err)
		}
		delete(a.live, p)
	}
	a.stats.InUseBytes = 0
	return errors.Join(errs...)
}
