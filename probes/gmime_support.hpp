/*++
 * NAME
 *	gmime_support 3h
 * SUMMARY
 *	what every user of GMime here needs: one initialisation, owning pointers
 * DESCRIPTION
 *	gmime_once() initialises GMime once per process, whichever reader comes
 *	first (a message to predict for, a bounce to explain). GPtr<T> owns a
 *	GObject and unrefs it.
 *--*/
#pragma once

#include <gmime/gmime.h>

#include <memory>
#include <mutex>

namespace bp::probes {

inline void gmime_once() {
  static std::once_flag once;
  std::call_once(once, [] { g_mime_init(); });
}

struct GObjectUnref {
  void operator()(gpointer p) const {
    if (p != nullptr) g_object_unref(p);
  }
};

template <typename T>
using GPtr = std::unique_ptr<T, GObjectUnref>;

}  // namespace bp::probes
