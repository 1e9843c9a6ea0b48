// How a process opens a store: as its owner (the one process that writes it, holding its lock for as long
// as the store is open), or beside the owner, reading. Creating a store is explicit: only CreateIfMissing
// creates one, and only where no file exists, so a lost or damaged store is never silently replaced by a
// new empty one.
#pragma once

namespace orgos::store {

enum class OpenMode {
  CreateIfMissing,  // the owner; a new store where no file exists, else the existing one
  MustExist,        // the owner of an existing store
  ReadOnly,         // a reader beside the owner: no lock, a read-only connection
  // Writes the owner does not keep in memory (API tokens), made beside a running owner without its lock;
  // SQLite's own locking orders them with the owner's transactions. Never used for engine state.
  SharedWrite,
};

}  // namespace orgos::store
