// tsdsr-sample-image OUT.png [WIDTH HEIGHT]: draws a test card (gradients, fine lines, text, circles) to
// upscale in the quickstart and demos without shipping a photograph.
#include <cstdio>
#include <cstdlib>
#include <string>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

namespace {

cv::Mat TestCard(int width, int height) {
  cv::Mat card(height, width, CV_8UC3);
  for (int y = 0; y < height; ++y) {
    for (int x = 0; x < width; ++x) {
      card.at<cv::Vec3b>(y, x) = cv::Vec3b(static_cast<uchar>(255 * x / width), static_cast<uchar>(255 * y / height),
                                           static_cast<uchar>(128 + 127 * ((x / 16 + y / 16) % 2 ? 1 : -1) / 2));
    }
  }
  for (int i = 0; i < 12; ++i) {  // converging lines: aliasing shows at once
    cv::line(card, {width / 2, height - 1}, {i * width / 11, 0}, cv::Scalar(255, 255, 255), 1, cv::LINE_AA);
  }
  cv::circle(card, {width / 4, height / 2}, height / 5, cv::Scalar(20, 20, 220), 2, cv::LINE_AA);
  cv::circle(card, {3 * width / 4, height / 2}, height / 6, cv::Scalar(220, 160, 20), -1, cv::LINE_AA);
  cv::putText(card, "TSD-SR Serve", {width / 10, height / 5}, cv::FONT_HERSHEY_SIMPLEX, width / 400.0,
              cv::Scalar(0, 0, 0), 2, cv::LINE_AA);
  cv::putText(card, "small text 0123456789", {width / 10, 9 * height / 10}, cv::FONT_HERSHEY_PLAIN, 1.0,
              cv::Scalar(255, 255, 255), 1, cv::LINE_AA);
  return card;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2 && argc != 4) {
    std::fprintf(stderr, "usage: %s OUT.png [WIDTH HEIGHT]\n", argv[0]);
    return 1;
  }
  int width = argc == 4 ? std::atoi(argv[2]) : 320;
  int height = argc == 4 ? std::atoi(argv[3]) : 240;
  if (width < 16 || height < 16 || width > 8192 || height > 8192) {
    std::fprintf(stderr, "error: WIDTH and HEIGHT must be within 16..8192\n");
    return 1;
  }
  if (!cv::imwrite(argv[1], TestCard(width, height))) {
    std::fprintf(stderr, "error: cannot write %s\n", argv[1]);
    return 1;
  }
  return 0;
}
