// A prepared SQLite statement as an RAII object with typed binds and reads, and the one mapping from SQLite
// result codes to Status. Used only by SqliteJobStore; not thread-safe (the store serializes).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"

struct sqlite3;
struct sqlite3_stmt;

namespace tsdsr::dispatcher {

// The Status for SQLite result code `rc` while doing `what`: Conflict for constraint violations,
// InsufficientStorage for a full, read-only or failing disk, Internal otherwise. OK for SQLITE_OK/DONE/ROW.
Status SqliteStatus(sqlite3* db, int rc, std::string_view what);

class SqliteStatement {
 public:
  // Prepares `sql` on `db`; check status() before use.
  SqliteStatement(sqlite3* db, std::string_view sql);
  ~SqliteStatement();
  SqliteStatement(const SqliteStatement&) = delete;
  SqliteStatement& operator=(const SqliteStatement&) = delete;

  const Status& status() const { return status_; }

  // Binds parameter `index` (1-based). An empty text is bound as NULL when `empty_is_null`.
  void Bind(int index, std::int64_t value);
  void Bind(int index, std::string_view text, bool empty_is_null = false);

  // Runs one step: true when a row is ready to read, false when done; an error lands in status().
  bool Step();
  // Runs the statement to its end; its Status.
  Status Run();

  std::int64_t Int(int column) const;
  std::string Text(int column) const;  // "" for NULL

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_ = nullptr;
  Status status_;
  std::string sql_;
};

}  // namespace tsdsr::dispatcher
