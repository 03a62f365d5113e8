// trimMemory(): hands the heap memory that the C allocator keeps free back to the OS.
#pragma once
#include <napi.h>

namespace sigma {

/// trimMemory() -> Promise<boolean>: malloc_trim(0) on the libuv thread pool (it walks and locks
/// every malloc arena, so never on the event loop); true when memory was released, always false
/// where the C library is not glibc.
Napi::Value TrimMemory(const Napi::CallbackInfo& info);

}  // namespace sigma
